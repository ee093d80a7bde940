import { NestFactory } from '@nestjs/core';
import { GraphQLSchemaBuilderModule, GraphQLSchemaFactory, type BuildSchemaOptions } from '@nestjs/graphql';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { SlaMissesResolver } from './alerts/sla-misses.resolver.js';
import { SlaWarningsResolver } from './alerts/sla-warnings.resolver.js';
import { ApiKeysResolver } from './api-keys/api-keys.resolver.js';
import { BackfillsResolver } from './backfills/backfills.resolver.js';
import { DagsResolver } from './dags/dags.resolver.js';
import { DatasetsResolver } from './datasets/datasets.resolver.js';
import { PoolsResolver } from './pools/pools.resolver.js';
import { RunsResolver } from './runs/runs.resolver.js';
import { TaskInstancesResolver } from './runs/task-instances.resolver.js';
import { DateTimeScalar } from './scalars.js';
import { SubscriptionsResolver } from './events/subscriptions.resolver.js';
import { BackfillStreamPositionResolver, DagRunStreamPositionResolver, DagStreamPositionResolver } from './events/stream-positions.resolver.js';
import { WorkersResolver } from './workers/workers.resolver.js';
import { WebhooksResolver } from './webhooks/webhooks.resolver.js';

/**
 * Every resolver of the schema: the running module provides exactly these, and the schema export builds from the
 * same list, so clients/schema.graphql cannot miss one (subscription resolvers included).
 */
export const GRAPHQL_RESOLVERS = [
  DagsResolver,
  RunsResolver,
  TaskInstancesResolver,
  BackfillsResolver,
  PoolsResolver,
  DatasetsResolver,
  SlaMissesResolver,
  SlaWarningsResolver,
  WorkersResolver,
  SubscriptionsResolver,
  DagStreamPositionResolver,
  DagRunStreamPositionResolver,
  BackfillStreamPositionResolver,
  ApiKeysResolver,
  WebhooksResolver,
];

export const SCHEMA_BUILD_OPTIONS: BuildSchemaOptions = {
  // A field typed `Date` without an explicit scalar gets ours, not Nest's same-named built-in.
  scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
  noDuplicatedFields: true,
};

const HEADER = '# Weft GraphQL schema, generated from the code by `npm run graphql:schema`; do not edit.\n\n';

/** The committed form of a schema: sorted, so that the file changes only when the schema does. */
export function schemaSdl(schema: GraphQLSchema): string {
  return `${HEADER}${printSchema(lexicographicSortSchema(schema))}\n`;
}

/** Builds the schema from the resolvers alone: no database, no HTTP server. */
export async function buildGraphqlSchemaSdl(): Promise<string> {
  const ctx = await NestFactory.createApplicationContext(GraphQLSchemaBuilderModule, { logger: false });
  try {
    await ctx.init();
    return schemaSdl(await ctx.get(GraphQLSchemaFactory).create(GRAPHQL_RESOLVERS, SCHEMA_BUILD_OPTIONS));
  } finally {
    await ctx.close();
  }
}
