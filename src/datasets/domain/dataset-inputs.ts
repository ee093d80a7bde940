import { z } from 'zod';
import { isoDateTime, paginationSchema } from '../../common/validation.js';

/** Inputs of the dataset API, shared by REST and GraphQL. */

export const datasetEventFilter = paginationSchema.extend({
  uri: z.string().min(1).optional(),
  since: isoDateTime.optional(),
  until: isoDateTime.optional(),
});

export const postDatasetEventInput = z.strictObject({ uri: z.string().min(1).max(1000), extra: z.record(z.string(), z.json()).default({}) });
