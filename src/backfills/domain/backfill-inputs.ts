import { z } from 'zod';
import { INT32_MAX, isoDateTime, paginationSchema, wholeNumber } from '../../common/validation.js';
import { idSchema } from '../../dags/domain/dag-document.schema.js';

/** Inputs of the backfill API, shared by REST and GraphQL. */

export const createBackfillInput = z.strictObject({
  dagId: idSchema,
  fromDate: isoDateTime,
  toDate: isoDateTime,
  maxActiveRuns: z.int().min(1).max(1000).default(10),
  reprocessBehavior: z.enum(['none', 'failed', 'completed']).default('none'),
  runBackwards: z.boolean().default(false),
  conf: z.record(z.string(), z.json()).default({}),
  dryRun: z.boolean().default(false),
  allowConcurrent: z.boolean().default(false),
});

export const backfillId = wholeNumber(1, INT32_MAX);

export const backfillListFilter = paginationSchema.extend({ dagId: idSchema.optional() });
