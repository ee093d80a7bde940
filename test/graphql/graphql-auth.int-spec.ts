import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiKeysService } from '../../src/auth/api-keys.service.js';
import { dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { graphql } from '../support/graphql.js';

const ADMIN = 'weft_test_admin_key_graphql_0123456789';
let t: TestApp;
const keys: Record<string, string> = {};
const as = (key: string | undefined, query: string, variables?: Record<string, unknown>) =>
  graphql(t.app, query, variables, key ? { authorization: `Bearer ${key}` } : {});

beforeAll(async () => {
  t = await startTestApp({ WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: ADMIN });
  await t.app.get(ApiKeysService).ensureAdminKey(ADMIN, '/tmp');
  for (const role of ['viewer', 'operator']) {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/apiKeys', headers: { authorization: `Bearer ${ADMIN}` }, payload: { name: `gql-${role}`, role } });
    expect(res.statusCode).toBe(201);
    keys[role] = res.json().key;
  }
});
afterAll(async () => {
  await t?.close();
});

describe('GraphQL with API keys', () => {
  const upsert = `mutation($d: JSON!) { upsertDag(document: $d) { version } }`;

  it('refuses an operation without a key: UNAUTHENTICATED', async () => {
    const res = await as(undefined, `{ dags { totalEntries } }`);
    expect(res.body).toMatchObject({ data: { dags: null }, errors: [{ path: ['dags'], extensions: { code: 'UNAUTHENTICATED', statusCode: 401 } }] });
  });

  it('asks each field for the role its REST endpoint asks for', async () => {
    expect((await as(ADMIN, upsert, { d: dag('gql_auth', [{ taskId: 'a' }]) })).errors).toBeUndefined();

    expect((await as(keys.viewer, `{ dags { totalEntries } dag(dagId: "gql_auth") { dagId } }`)).data).toEqual({
      dags: { totalEntries: 1 },
      dag: { dagId: 'gql_auth' },
    });
    const viewerTrigger = await as(keys.viewer, `mutation { triggerDagRun(dagId: "gql_auth") { created } }`);
    expect(viewerTrigger.errors?.[0].extensions).toEqual({ code: 'FORBIDDEN', statusCode: 403 });

    expect((await as(keys.operator, `mutation { triggerDagRun(dagId: "gql_auth") { created } }`)).data).toEqual({ triggerDagRun: { created: true } });
    expect((await as(keys.operator, `mutation { createPool(input: { name: "gql_auth_pool", slots: 1 }) { name } }`)).errors).toBeUndefined();
    for (const adminOnly of [`mutation { deleteDag(dagId: "gql_auth") }`, upsert]) {
      const res = await as(keys.operator, adminOnly, { d: dag('gql_auth', [{ taskId: 'b' }]) });
      expect(res.errors?.[0].extensions).toEqual({ code: 'FORBIDDEN', statusCode: 403 });
    }
  });
});
