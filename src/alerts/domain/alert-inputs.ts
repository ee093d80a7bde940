import { isoDateTime, paginationSchema } from '../../common/validation.js';
import { idSchema } from '../../dags/domain/dag-document.schema.js';

/** Filters of the SLA-miss list, shared by REST and GraphQL. */
export const slaMissFilter = paginationSchema.extend({ dagId: idSchema.optional(), since: isoDateTime.optional() });
