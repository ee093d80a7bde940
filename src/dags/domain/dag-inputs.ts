import { z } from 'zod';
import { paginationSchema } from '../../common/validation.js';

/** Filters of the DAG list, shared by REST (whose query string spells booleans as 'true'/'false') and GraphQL. */
export const dagListFilter = paginationSchema.extend({
  paused: z.boolean().optional(),
  active: z.boolean().optional(),
  tag: z.string().min(1).optional(),
  dagIdPrefix: z.string().min(1).optional(),
});
