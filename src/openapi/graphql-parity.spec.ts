import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { buildSchema, GraphQLObjectType } from 'graphql';
import type { z } from 'zod';
import { schemaName } from './contract.js';
import * as admin from './schemas/admin.js';
import * as dags from './schemas/dags.js';
import * as leases from './schemas/leases.js';
import * as runs from './schemas/runs.js';
import * as webhooks from './schemas/webhooks.js';

/**
 * One declaration per resource shape (issue 21.5): a resource the REST API (zod schemas, which make the OpenAPI
 * document) and GraphQL (classes, which make clients/schema.graphql, checked against the code by graphql:check) both
 * serve has the same fields in both, apart from what GraphQL adds on purpose: relations it resolves and its stream
 * positions. A field added to one side only fails here.
 */
const GRAPHQL_ONLY: Record<string, string[]> = {
  Backfill: ['progressEventSequence'],
  Dag: ['document', 'recentRuns', 'runEventSequence', 'versions'],
  DagRun: ['dagVersionId', 'id', 'taskEventSequence', 'taskInstances'],
  TaskInstance: ['dagRunId', 'id', 'xcomEntries'],
};
/** Where the two names differ: zod (OpenAPI) name → GraphQL type. */
const GRAPHQL_NAME: Record<string, string> = { TaskInstanceTry: 'TaskTry' };

const graphql = buildSchema(readFileSync(new URL('../../clients/schema.graphql', import.meta.url), 'utf8'));
const shared = Object.values({ ...admin, ...dags, ...leases, ...runs, ...webhooks })
  .map((schema) => ({ name: schemaName(schema as z.ZodType)?.name, shape: (schema as { shape?: Record<string, unknown> }).shape }))
  .filter((s): s is { name: string; shape: Record<string, unknown> } => Boolean(s.name && s.shape))
  .map((s) => ({ ...s, type: graphql.getType(GRAPHQL_NAME[s.name] ?? s.name) }))
  .filter((s): s is typeof s & { type: GraphQLObjectType } => s.type instanceof GraphQLObjectType);

describe('REST and GraphQL shapes', () => {
  it('finds the resources both APIs serve', () => {
    expect(shared.map((s) => s.name)).toEqual(expect.arrayContaining(['Dag', 'DagRun', 'TaskInstance', 'TaskInstanceTry', 'Backfill', 'Pool', 'ApiKey', 'Webhook']));
  });

  it.each(shared.map((s) => [s.name, s] as const))('%s has the same fields in both, apart from GraphQL’s declared extras', (name, s) => {
    const rest = Object.keys(s.shape).sort();
    const gql = Object.keys(s.type.getFields()).filter((f) => !(GRAPHQL_ONLY[name] ?? []).includes(f)).sort();
    expect(gql).toEqual(rest);
  });

  it('declares no GraphQL extra that is not there (a stale exception hides nothing)', () => {
    for (const [name, extras] of Object.entries(GRAPHQL_ONLY)) {
      const type = graphql.getType(GRAPHQL_NAME[name] ?? name) as GraphQLObjectType;
      expect(extras.filter((f) => !(f in type.getFields()))).toEqual([]);
    }
  });
});
