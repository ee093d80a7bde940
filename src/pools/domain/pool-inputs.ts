import { z } from 'zod';
import { idSchema } from '../../dags/domain/dag-document.schema.js';

/** Inputs of the pool API, shared by REST and GraphQL. */

const slots = z.int().min(0).max(1_000_000);

export const createPoolInput = z.strictObject({ name: idSchema, slots, description: z.string().max(1000).optional() });

export const updatePoolInput = z
  .strictObject({ slots: slots.optional(), description: z.string().max(1000).nullable().optional() })
  .refine((b) => b.slots !== undefined || b.description !== undefined, { error: 'give slots or description' });
