import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiKeysService } from '../../src/auth/api-keys.service.js';
import { dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { graphql } from '../support/graphql.js';
import { waitFor } from '../support/wait.js';

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

describe('API keys over GraphQL', () => {
  const create = `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { id name prefix role queues taskTypes createdAt lastUsedAt revokedAt key } }`;
  const list = `{ apiKeys(limit: 1000) { totalEntries items { id name prefix role queues taskTypes lastUsedAt revokedAt } } }`;
  const revoke = `mutation($id: ID!) { revokeApiKey(id: $id) { id name revokedAt } }`;
  const rest = (key: string, url = '/api/v1/dags') => t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

  it('admin creates a key, shown once; it works over REST, is listed without the key, and stops working when revoked', async () => {
    const created = await as(ADMIN, create, { i: { name: 'gql-made operator', role: 'operator' } });
    expect(created.errors).toBeUndefined();
    const k = created.data.createApiKey;
    expect(k).toMatchObject({ name: 'gql-made operator', role: 'operator', queues: [], taskTypes: [], lastUsedAt: null, revokedAt: null });
    expect(k.key).toMatch(/^weft_[A-Za-z0-9_-]{43}$/);
    expect(k.prefix).toBe(k.key.slice(0, 12));

    expect((await rest(k.key)).statusCode).toBe(200);
    const listed = await waitFor(async () => {
      const { data } = await as(ADMIN, list);
      const item = data.apiKeys.items.find((i: { id: string }) => i.id === k.id);
      return item?.lastUsedAt ? item : null;
    }, 'the new key listed with its last use');
    expect(listed).toMatchObject({ name: 'gql-made operator', role: 'operator', prefix: k.prefix, revokedAt: null });
    // The key itself cannot be read back: the listed type has no such field.
    expect((await as(ADMIN, `{ apiKeys { items { key } } }`)).errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');

    const revoked = await as(ADMIN, revoke, { id: k.id });
    expect(revoked.errors).toBeUndefined();
    expect(revoked.data.revokeApiKey).toMatchObject({ id: k.id, name: 'gql-made operator', revokedAt: expect.any(String) });
    expect((await rest(k.key)).statusCode).toBe(401);
    expect((await as(k.key, `{ dags { totalEntries } }`)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    const audit = await t.app.inject({ method: 'GET', url: '/api/v1/auditLog?limit=10', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(audit.json().items.map((e: { action: string; target: string }) => [e.action, e.target])).toEqual(
      expect.arrayContaining([
        ['create_api_key', k.id],
        ['revoke_api_key', k.id],
      ]),
    );
  });

  it('scopes worker keys to queues and task types', async () => {
    const created = await as(ADMIN, create, { i: { name: 'etl workers', role: 'worker', queues: ['etl'], taskTypes: ['shell'] } });
    expect(created.data.createApiKey).toMatchObject({ role: 'worker', queues: ['etl'], taskTypes: ['shell'] });
    const worker = created.data.createApiKey.key;
    expect((await rest(worker)).statusCode).toBe(403);
    const lease = await t.app.inject({
      method: 'POST',
      url: '/api/v1/workers/w1/lease',
      headers: { authorization: `Bearer ${worker}` },
      payload: { queues: ['other'], capacity: 1, waitSeconds: 0 },
    });
    expect(lease.statusCode).toBe(403);
    for (const query of [list, create]) {
      const res = await as(worker, query, { i: { name: 'x', role: 'admin' } });
      expect(res.errors?.[0].extensions).toEqual({ code: 'FORBIDDEN', statusCode: 403 });
    }
  });

  it('refuses operator and viewer keys: FORBIDDEN, and nothing changes', async () => {
    const before = (await as(ADMIN, list)).data.apiKeys;
    const victim = before.items.find((i: { name: string }) => i.name === 'gql-viewer');
    for (const role of ['operator', 'viewer']) {
      const key = keys[role]!;
      const listed = await as(key, list);
      expect(listed.data).toEqual({ apiKeys: null });
      expect(listed.errors?.[0]).toMatchObject({ path: ['apiKeys'], extensions: { code: 'FORBIDDEN', statusCode: 403 } });
      expect((await as(key, create, { i: { name: `escalate-${role}`, role: 'admin' } })).errors?.[0].extensions).toEqual({ code: 'FORBIDDEN', statusCode: 403 });
      expect((await as(key, revoke, { id: victim.id })).errors?.[0].extensions).toEqual({ code: 'FORBIDDEN', statusCode: 403 });
    }
    const after = (await as(ADMIN, list)).data.apiKeys;
    expect(after.totalEntries).toBe(before.totalEntries);
    expect(after.items.find((i: { id: string }) => i.id === victim.id).revokedAt).toBeNull();
    expect((await rest(keys.viewer!)).statusCode).toBe(200);
  });

  it('validates input with the REST rules', async () => {
    const bad = async (query: string, variables: Record<string, unknown>) => (await as(ADMIN, query, variables)).errors?.[0];
    expect(await bad(create, { i: { name: '', role: 'viewer' } })).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringContaining('name') });
    expect(await bad(create, { i: { name: 'q', role: 'worker', queues: ["x'; DROP TABLE api_keys;--"] } })).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: expect.stringContaining('queues[0]'),
    });
    expect((await bad(create, { i: { name: 'q', role: 'root' } }))?.message).toMatch(/ApiKeyRole/);
    expect(await bad(revoke, { id: 'not-a-uuid' })).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringContaining('must be a key id (UUID)') });
    expect(await bad(revoke, { id: '00000000-0000-4000-8000-000000000000' })).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
  });
});

