import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { BackfillsModule } from '../backfills/backfills.module.js';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { LeasesModule } from '../leases/leases.module.js';
import { PoolsModule } from '../pools/pools.module.js';
import { RunsModule } from '../runs/runs.module.js';
import { formatGraphqlError } from './format-error.js';
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
@Module({})
export class GraphqlModule {
  /** `dags` is the application's own DagsModule instance (dynamic modules are keyed by reference: a second forRoot would be a second module). */
  static forRoot(opts: { dags: DynamicModule }): DynamicModule {
    const logger = new Logger('graphql');
    return {
      module: GraphqlModule,
      imports: [
        opts.dags,
        RunsModule,
        LeasesModule,
        PoolsModule,
        BackfillsModule,
        DatasetsModule,
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          path: '/graphql',
          autoSchemaFile: true,
          sortSchema: true,
          buildSchemaOptions: SCHEMA_BUILD_OPTIONS,
          graphiql: false,
          introspection: true,
          includeStacktraceInErrorResponses: false,
          // Errors are mapped once, by formatGraphqlError; Nest's own HTTP-exception translation would come first.
          autoTransformHttpErrors: false,
          formatError: (formatted, error) =>
            formatGraphqlError(formatted, error, (e) => logger.error(e instanceof Error ? (e.stack ?? e.message) : String(e))),
        }),
      ],
      providers: [GraphqlLoaders, ...GRAPHQL_RESOLVERS],
    };
  }
}
