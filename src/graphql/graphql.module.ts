import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { BackfillsModule } from '../backfills/backfills.module.js';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { PoolsModule } from '../pools/pools.module.js';
import { AlertsModule } from '../alerts/alerts.module.js';
import { EngineModule } from '../engine/engine.module.js';
import type { FastifyRequest } from 'fastify';
import { execute, subscribe, type GraphQLError } from 'graphql';
import { ApiKeysService } from '../auth/api-keys.service.js';
import type { ApiKeyRow } from '../auth/domain/api-key.js';
import { CONFIG, type Config } from '../config/config.js';
import { EventsModule } from '../events/events.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { tokenFromConnectionParams, type GraphqlContext } from './context.js';
import { formatGraphqlError } from './format-error.js';
import { costLimitPlugin, limitRules, parseOptions, subscriptionsOverWebSocketPlugin, wsGuards } from './limits.js';
import { GraphqlLoaders } from './loaders.js';
import { GRAPHQL_RESOLVERS, SCHEMA_BUILD_OPTIONS } from './schema.js';

/**
 * The code-first GraphQL API at /graphql, on the REST server's port (Apollo Server on Fastify). Resolvers call the
 * same service methods as the REST controllers; errors go through ERROR_TABLE (format-error.ts). Subscriptions
 * (graphql-ws) plug in here: a `subscriptions` entry in the driver options and their resolvers in GRAPHQL_RESOLVERS.
 *
 * Query fields are nullable, so one failing field (NOT_FOUND, FORBIDDEN) leaves its siblings' data in the answer;
 * mutation fields are not, so a failing mutation stops the ones after it in the same request.
 */
/** What onConnect leaves on a graphql-ws connection. */
type WsExtra = { weft?: { token: string; key: ApiKeyRow } };

/** A graphql-ws context (connectionParams + extra) → the operation's context; anything else is an HTTP request. */
function wsContext(arg: unknown): GraphqlContext | null {
  if (!arg || typeof arg !== 'object' || !('extra' in arg) || !('connectionParams' in arg)) return null;
  const auth = (arg.extra as WsExtra).weft;
  return { req: { headers: auth ? { authorization: `Bearer ${auth.token}` } : {} }, apiKey: auth?.key ?? null };
}

@Module({})
export class GraphqlModule {
  /** `dags` is the application's own DagsModule instance (dynamic modules are keyed by reference: a second forRoot would be a second module). */
  static forRoot(opts: { dags: DynamicModule }): DynamicModule {
    const logger = new Logger('graphql');
    const logError = (e: unknown) => logger.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    return {
      module: GraphqlModule,
      imports: [
        opts.dags,
        EngineModule,
        AlertsModule,
        PoolsModule,
        BackfillsModule,
        DatasetsModule,
        EventsModule,
        WebhooksModule,
        GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          inject: [ApiKeysService, CONFIG],
          useFactory: (keys: ApiKeysService, config: Config) => {
            const ws = wsGuards(config.graphql);
            return {
            path: '/graphql',
            autoSchemaFile: true,
            sortSchema: true,
            buildSchemaOptions: SCHEMA_BUILD_OPTIONS,
            graphiql: false,
            introspection: true,
            includeStacktraceInErrorResponses: false,
            // Errors are mapped once, by formatGraphqlError; Nest's own HTTP-exception translation would come first.
            autoTransformHttpErrors: false,
            formatError: (formatted, error) => formatGraphqlError(formatted, error, logError),
            // Depth, aliases, cost and string literals, all checked before anything runs (limits.ts).
            parseOptions: parseOptions(config.graphql),
            validationRules: limitRules(config.graphql),
            plugins: [subscriptionsOverWebSocketPlugin(), costLimitPlugin(config.graphql)],
            context: (arg: unknown): GraphqlContext => wsContext(arg) ?? { req: arg as FastifyRequest },
            subscriptions: {
              'graphql-ws': {
                path: '/graphql',
                // Authentication at connection_init: without a valid key the socket is closed (4403 Forbidden).
                onConnect: async (ctx) => {
                  if (!config.authEnabled) return true;
                  const token = tokenFromConnectionParams(ctx.connectionParams);
                  const key = token ? await keys.authenticate(token) : null;
                  if (!key) return false;
                  (ctx.extra as WsExtra).weft = { token: token!, key };
                  return true;
                },
                // graphql-ws validates and runs operations itself: the same limits as over HTTP (limits.ts).
                ...{ onSubscribe: ws.onSubscribe, validate: ws.validate, execute: ws.guard(execute), subscribe: ws.guard(subscribe) },
                // graphql-ws sends errors itself: map them through the same table as HTTP answers.
                onNext: (_ctx, _id, _payload, _args, result) =>
                  result.errors ? { ...result, errors: result.errors.map((e) => formatGraphqlError(e.toJSON(), e, logError)) } : undefined,
                // (onError is passed through to graphql-ws, though Nest's config type leaves it out.)
                ...{ onError: (_ctx: unknown, _id: string, _payload: unknown, errors: readonly GraphQLError[]) => errors.map((e) => formatGraphqlError(e.toJSON(), e.originalError ?? e, logError)) },
              },
            },
            };
          },
        }),
      ],
      providers: [GraphqlLoaders, ...GRAPHQL_RESOLVERS],
    };
  }
}
