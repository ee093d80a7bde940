import type { FastifyRequest } from 'fastify';

/**
 * The context of one GraphQL operation (built per request by the Apollo driver). Per-request DataLoaders hang off
 * this object (graphql/loaders.ts), so a future graphql-ws context only needs to be an object as well.
 */
export type GraphqlContext = { req?: FastifyRequest };
