import { AsyncLocalStorage } from 'node:async_hooks';
import type { ApiKeyRow } from '../auth/domain/api-key.js';

/** What one request carries through services (the audit trail reads the actor from here). */
export type RequestContext = { requestId?: string; apiKey?: ApiKeyRow };

export const requestContext = new AsyncLocalStorage<RequestContext>();

export function currentActor(): { actor: string | null; apiKeyId: string | null; requestId: string | null } {
  const ctx = requestContext.getStore();
  return {
    actor: ctx?.apiKey ? `${ctx.apiKey.name} (${ctx.apiKey.role})` : null,
    apiKeyId: ctx?.apiKey?.id ?? null,
    requestId: ctx?.requestId ?? null,
  };
}
