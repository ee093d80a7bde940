import { z } from 'zod';
import { named } from '../contract.js';

/** The one error body (common/http-exception.filter.ts): `{statusCode, error, message, details?}`. */
export const errorBody = named(
  'Error',
  z.object({
    statusCode: z.int().describe('The HTTP status, repeated'),
    error: z.string().describe('The HTTP reason phrase'),
    message: z.string().describe('What went wrong, naming the field or the object'),
    details: z
      .unknown()
      .optional()
      .describe(
        'Validation errors: a list of {path, message}, one per bad field. Conflicts: {reason}, e.g. `lease_lost` or `already_completed` for a stale lease.',
      ),
  }),
  {
    description: 'Every error answer has this shape.',
    example: { statusCode: 400, error: 'Bad Request', message: 'queues: Too small: expected array to have >=1 items', details: [{ path: 'queues', message: 'Too small: expected array to have >=1 items' }] },
  },
);
