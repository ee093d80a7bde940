import { z } from 'zod';
import { INT32_MAX, wholeNumber } from '../common/validation.js';
import { idSchema } from '../dags/domain/dag-document.schema.js';
import { xcomKey } from '../engine/leases/domain/xcom-inputs.js';
import { runIdSchema } from '../engine/runs/domain/run-inputs.js';

/**
 * The rule for each path parameter, by name: one name means one kind of value on every route, so `{dagId}` is
 * checked (and documented) the same way wherever it appears. A route whose `{id}` means something else says so
 * in its contract (`params`: `{id}` of /apiKeys is a UUID, of /backfills a number). Checked before the handler runs (PathParamsInterceptor), documented in the OpenAPI
 * document from the same schemas; a route with a parameter that has no rule fails the document build.
 */
export const PATH_PARAMS: Record<string, z.ZodType> = {
  dagId: idSchema,
  runId: runIdSchema,
  taskId: idSchema,
  name: idSchema,
  workerId: idSchema,
  key: xcomKey,
  leaseId: z.uuid({ error: 'must be a lease id (UUID)' }),
  version: wholeNumber(1, INT32_MAX),
  tryNumber: wholeNumber(1, INT32_MAX),
  mapIndex: wholeNumber(-1, INT32_MAX),
};

export function pathParamSchema(name: string, overrides: Record<string, z.ZodType> | undefined): z.ZodType | undefined {
  return overrides?.[name] ?? PATH_PARAMS[name];
}
