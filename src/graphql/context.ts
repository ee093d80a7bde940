import type { FastifyRequest } from 'fastify';
import type { ApiKeyRow } from '../auth/domain/api-key.js';
import { bearerToken } from '../auth/domain/bearer.js';
import type { Subscriber } from '../events/subscriptions.service.js';

/**
 * The context of one GraphQL operation: built per HTTP request by the Apollo driver, or per subscription by
 * graphql-ws. Per-request DataLoaders hang off this object (graphql/loaders.ts). Over a WebSocket `req` carries only
 * the Authorization header given at connection_init, so the one AuthGuard checks queries and subscriptions alike;
 * `apiKey` is the key that connection authenticated with (re-checked on every event).
 */
export type GraphqlContext = {
  req?: FastifyRequest | { headers: { authorization?: string } };
  apiKey?: ApiKeyRow | null;
};

export function subscriberOf(ctx: GraphqlContext): Subscriber {
  return { apiKey: ctx.apiKey ?? null };
}

/** The bearer token in graphql-ws connectionParams: `{ authorization: 'Bearer <key>' }` (any case) or `{ apiKey }`. */
export function tokenFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!params) return undefined;
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string') continue;
    const bearer = name.toLowerCase() === 'authorization' ? bearerToken(value) : undefined;
    if (bearer && 'token' in bearer) return bearer.token;
    if (name === 'apiKey') return value.trim() || undefined;
  }
  return undefined;
}
