import { z } from 'zod';
import { idSchema } from '../../dags/domain/dag-document.schema.js';
import type { Role } from './api-key.js';

/** Inputs of the API-key administration, shared by REST (/api/v1/apiKeys) and GraphQL. */

export const API_KEY_ROLES = ['admin', 'operator', 'viewer', 'worker'] as const satisfies readonly Role[];

export const createApiKeyInput = z.strictObject({
  name: z.string().min(1).max(200),
  role: z.enum(API_KEY_ROLES),
  queues: z.array(idSchema).max(100).optional(),
  taskTypes: z.array(idSchema).max(100).optional(),
});

export const apiKeyId = z.uuid({ error: 'must be a key id (UUID)' });
