import type { ApolloDriverConfig } from '@nestjs/apollo';
import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { BackfillsModule } from '../backfills/backfills.module.js';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { PoolsModule } from '../pools/pools.module.js';
import { AlertsModule } from '../alerts/alerts.module.js';
import { EngineModule } from '../engine/engine.module.js';
import type { FastifyRequest } from 'fastify';
import { execute, GraphQLError, subscribe } from 'graphql';
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
import { WeftApolloDriver, WsKeyWatch, type WsEndpointOptions } from './ws-server.js';

/**
 * The code-first GraphQL API at /graphql, on the REST server's port (Apollo Server on Fastify). Resolvers call the
 * same service methods as the REST controllers; errors go through ERROR_TABLE (format-error.ts). Subscriptions
 * (graphql-ws) plug in here: a `subscriptions` entry in the driver options and their resolvers in GRAPHQL_RESOLVERS.
 *
 * Query fields are nullable, so one failing field (NOT_FOUND, FORBIDDEN) leaves its siblings' data in the answer;
 * mutation fields are not, so a failing mutation stops the ones after it in the same request.
 */
/** What onConnect leaves on a graphql-ws connection (beside the socket and upgrade request useServer puts there). */
type WsExtra = { weft: { token: string; key: ApiKeyRow } };

/** How often the keys of open WebSocket connections are checked again (a revoked key's connection closes within this). */
const WS_KEY_RECHECK_MS = 5_000;

/** A graphql-ws context (connectionParams + extra) → the operation's context; anything else is an HTTP request. */
function wsContext(arg: unknown): GraphqlContext | null {
  if (!arg || typeof arg !== 'object' || !('extra' in arg) || !('connectionParams' in arg)) return null;
  const auth = (arg.extra as Partial<WsExtra>).weft;
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
          driver: WeftApolloDriver,
          inject: [ApiKeysService, CONFIG],
          useFactory: (keys: ApiKeysService, config: Config) => {
            const ws = wsGuards(config.graphql);
            const keyWatch = new WsKeyWatch((ids) => keys.activeIds(ids), WS_KEY_RECHECK_MS, (e) => logger.warn(`re-checking the keys of WebSocket connections failed (${(e as Error).message}); trying again`));
            const maxSubscriptions = config.graphql.wsMaxSubscriptions;
            const wsOptions: WsEndpointOptions<WsExtra> = {
              path: '/graphql',
              // Frames up to the HTTP body limit (ws's own default is 100 MiB); a bigger one closes the socket with 1009.
              maxPayload: config.bodyLimitBytes,
              onSocketError: (err) => logger.debug(`a WebSocket client broke the protocol (${err.code ?? err.message}); its connection is closed`),
              // Authentication at connection_init: without a valid key the socket is closed (4403 Forbidden); a key
              // revoked later closes it within WS_KEY_RECHECK_MS (WsKeyWatch).
              onConnect: async (ctx) => {
                if (!config.authEnabled) return true;
                const token = tokenFromConnectionParams(ctx.connectionParams);
                const key = token ? await keys.authenticate(token) : null;
                if (!key) return false;
                ctx.extra.weft = { token: token!, key };
                keyWatch.add(key.id, ctx.extra.socket);
                return true;
              },
              onClose: (ctx) => {
                if (ctx.extra.weft) keyWatch.remove(ctx.extra.weft.key.id, ctx.extra.socket);
              },
              // graphql-ws validates and runs operations itself: the same limits as over HTTP (limits.ts), and at
              // most wsMaxSubscriptions operations at once per connection (the new one is already counted).
              onSubscribe: (ctx, id, payload) => {
                if (Object.keys(ctx.subscriptions).length > maxSubscriptions) {
                  return [
                    new GraphQLError(
                      `this connection already has ${maxSubscriptions} subscriptions (WEFT_GRAPHQL_WS_MAX_SUBSCRIPTIONS): complete one first, or open another connection`,
                      { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } },
                    ),
                  ];
                }
                return ws.onSubscribe(ctx, id, payload);
              },
              validate: ws.validate,
              execute: ws.guard(execute) as WsEndpointOptions<WsExtra>['execute'],
              subscribe: ws.guard(subscribe) as WsEndpointOptions<WsExtra>['subscribe'],
              // graphql-ws sends errors itself: map them through the same table as HTTP answers.
              onNext: (_ctx, _id, _payload, _args, result) =>
                result.errors ? { ...result, errors: result.errors.map((e) => formatGraphqlError(e.toJSON(), e, logError)) } : undefined,
              onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatGraphqlError(e.toJSON(), e.originalError ?? e, logError)),
            };
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
            // Served by WeftApolloDriver (ws-server.ts), which takes these options as they are.
            subscriptions: { 'graphql-ws': wsOptions as object },
            };
          },
        }),
      ],
      providers: [GraphqlLoaders, ...GRAPHQL_RESOLVERS],
    };
  }
}
