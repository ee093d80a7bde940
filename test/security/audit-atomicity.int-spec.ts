import { beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../support/api.js';
import { useTestApp } from '../support/app.js';
import { graphql } from '../support/graphql.js';
import { changedTables, operations, resolve, sample, tableChecksums, type Schema } from '../support/openapi-walk.js';

/**
 * Every administrative write commits together with its audit entry or not at all. A deferred constraint trigger on
 * audit_log fails the transaction at COMMIT, after everything else the write did; every write operation of the
 * OpenAPI document and every mutation of the GraphQL schema is then sent once with the trigger on (it must fail and
 * leave every table as it was) and once with it off (it must succeed and add an audit entry). An audit entry written
 * outside the change's transaction shows up as a changed table, a write without an entry as a success under the
 * trigger. The operations come from the document and the schema: a new write is walked (and, without a recipe of
 * its own, tried with a body built from its schema) without editing this file.
 */

/** Writes that are not administrative: the worker lease protocol, and validation, which writes nothing. Reviewed. */
const NOT_ADMINISTRATIVE_REST = new Set(['leaseTasks', 'heartbeatLease', 'completeLease', 'appendLeaseLogs', 'validateDag']);
const NOT_ADMINISTRATIVE_GRAPHQL = new Set<string>([]);
/** Columns that reads and lease polling may touch. */
const IGNORED_COLUMNS = { api_keys: ['last_used_at'], workers: ['last_seen_at'] };

type Fixture = {
  n: number;
  dagId: string;
  runId: string;
  pool: string;
  backfillId: number;
  apiKeyId: string;
  pausedBackfillId: number;
  webhookId: number;
  webhookDeliveryId: string;
};
type RestCall = { method: string; path: string; body?: unknown };
type GraphqlCall = { query: string; variables?: Record<string, unknown> };

const DAY = (d: number) => `2024-01-${String(d).padStart(2, '0')}T00:00:00Z`;

/** Requests that make a real change on a fresh fixture. Operations without one get their path filled and a sampled body. */
const REST_RECIPES: Record<string, (f: Fixture) => RestCall> = {
  createApiKey: (f) => ({ method: 'POST', path: '/api/v1/apiKeys', body: { name: `au key ${f.n}`, role: 'viewer' } }),
  upsertDag: (f) => ({ method: 'POST', path: '/api/v1/dags', body: dagDocument(`${f.dagId}_new`) }),
  patchDag: (f) => ({ method: 'PATCH', path: `/api/v1/dags/${f.dagId}`, body: { isPaused: true } }),
  triggerDagRun: (f) => ({ method: 'POST', path: `/api/v1/dags/${f.dagId}/dagRuns`, body: { runId: 'second', logicalDate: DAY(5) } }),
  patchDagRun: (f) => ({ method: 'PATCH', path: `/api/v1/dags/${f.dagId}/dagRuns/${f.runId}`, body: { state: 'failed' } }),
  patchTaskInstance: (f) => ({ method: 'PATCH', path: `/api/v1/dags/${f.dagId}/dagRuns/${f.runId}/taskInstances/extract`, body: { newState: 'failed' } }),
  patchMappedTaskInstance: (f) => ({ method: 'PATCH', path: `/api/v1/dags/${f.dagId}/dagRuns/${f.runId}/taskInstances/extract/-1`, body: { newState: 'failed' } }),
  clearTaskInstances: (f) => ({ method: 'POST', path: `/api/v1/dags/${f.dagId}/clearTaskInstances`, body: { taskIds: ['extract'], dryRun: false } }),
  setXcomEntry: (f) => ({ method: 'PUT', path: `/api/v1/dags/${f.dagId}/dagRuns/${f.runId}/taskInstances/extract/xcomEntries/k`, body: { value: 42 } }),
  setMappedXcomEntry: (f) => ({ method: 'PUT', path: `/api/v1/dags/${f.dagId}/dagRuns/${f.runId}/taskInstances/extract/-1/xcomEntries/k`, body: { value: 42 } }),
  createPool: (f) => ({ method: 'POST', path: '/api/v1/pools', body: { name: `${f.pool}_new`, slots: 3 } }),
  patchPool: (f) => ({ method: 'PATCH', path: `/api/v1/pools/${f.pool}`, body: { slots: 7 } }),
  createBackfill: (f) => ({ method: 'POST', path: '/api/v1/backfills', body: { dagId: f.dagId, fromDate: DAY(10), toDate: DAY(12), allowConcurrent: true } }),
  unpauseBackfill: (f) => ({ method: 'POST', path: `/api/v1/backfills/${f.pausedBackfillId}/unpause` }),
  postDatasetEvent: (f) => ({ method: 'POST', path: '/api/v1/datasets/events', body: { uri: `au://ds${f.n}`, extra: { by: 'test' } } }),
  createWebhook: (f) => ({ method: 'POST', path: '/api/v1/webhooks', body: { url: `http://127.0.0.1:9/au${f.n}`, eventKinds: ['dag_run_state'], secret: 's' } }),
  patchWebhook: (f) => ({ method: 'PATCH', path: `/api/v1/webhooks/${f.webhookId}`, body: { enabled: false } }),
  deleteWebhook: (f) => ({ method: 'DELETE', path: `/api/v1/webhooks/${f.webhookId}` }),
  redeliverWebhookDelivery: (f) => ({ method: 'POST', path: `/api/v1/webhooks/${f.webhookId}/deliveries/${f.webhookDeliveryId}/redeliver` }),
};

const GRAPHQL_RECIPES: Record<string, (f: Fixture) => GraphqlCall> = {
  cancelBackfill: (f) => ({ query: `mutation($id: Int!) { cancelBackfill(id: $id) { id } }`, variables: { id: f.backfillId } }),
  clearTaskInstances: (f) => ({
    query: `mutation($d: ID!) { clearTaskInstances(dagId: $d, input: { taskIds: ["extract"], dryRun: false }) { dryRun } }`,
    variables: { d: f.dagId },
  }),
  createApiKey: (f) => ({ query: `mutation($n: String!) { createApiKey(input: { name: $n, role: viewer }) { id } }`, variables: { n: `au gql key ${f.n}` } }),
  createBackfill: (f) => ({
    query: `mutation($d: ID!) { createBackfill(input: { dagId: $d, fromDate: "${DAY(10)}", toDate: "${DAY(12)}", allowConcurrent: true }) { __typename } }`,
    variables: { d: f.dagId },
  }),
  createPool: (f) => ({ query: `mutation($n: String!) { createPool(input: { name: $n, slots: 3 }) { name } }`, variables: { n: `${f.pool}_new` } }),
  createWebhook: (f) => ({ query: `mutation($u: String!) { createWebhook(input: { url: $u, eventKinds: [sla_miss] }) { id } }`, variables: { u: `http://127.0.0.1:9/au${f.n}` } }),
  updateWebhook: (f) => ({ query: `mutation($id: Int!) { updateWebhook(id: $id, input: { enabled: false }) { id } }`, variables: { id: f.webhookId } }),
  deleteWebhook: (f) => ({ query: `mutation($id: Int!) { deleteWebhook(id: $id) }`, variables: { id: f.webhookId } }),
  redeliverWebhookDelivery: (f) => ({
    query: `mutation($w: Int!, $d: ID!) { redeliverWebhookDelivery(webhookId: $w, deliveryId: $d) { id } }`,
    variables: { w: f.webhookId, d: f.webhookDeliveryId },
  }),
  deleteDag: (f) => ({ query: `mutation($d: ID!) { deleteDag(dagId: $d) }`, variables: { d: f.dagId } }),
  deletePool: (f) => ({ query: `mutation($n: String!) { deletePool(name: $n) }`, variables: { n: f.pool } }),
  markDagRun: (f) => ({ query: `mutation($d: ID!, $r: String!) { markDagRun(dagId: $d, runId: $r, state: failed) { runId } }`, variables: { d: f.dagId, r: f.runId } }),
  markTaskInstance: (f) => ({
    query: `mutation($d: ID!, $r: String!) { markTaskInstance(dagId: $d, runId: $r, taskId: "extract", input: { newState: failed }) { __typename } }`,
    variables: { d: f.dagId, r: f.runId },
  }),
  pauseBackfill: (f) => ({ query: `mutation($id: Int!) { pauseBackfill(id: $id) { id } }`, variables: { id: f.backfillId } }),
  pauseDag: (f) => ({ query: `mutation($d: ID!) { pauseDag(dagId: $d) { dagId } }`, variables: { d: f.dagId } }),
  postDatasetEvent: (f) => ({ query: `mutation($u: String!) { postDatasetEvent(input: { uri: $u }) { id } }`, variables: { u: `au://ds${f.n}` } }),
  revokeApiKey: (f) => ({ query: `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, variables: { id: f.apiKeyId } }),
  setXcomEntry: (f) => ({
    query: `mutation($d: ID!, $r: String!) { setXcomEntry(dagId: $d, runId: $r, taskId: "extract", key: "k", value: 42) { key } }`,
    variables: { d: f.dagId, r: f.runId },
  }),
  triggerDagRun: (f) => ({ query: `mutation($d: ID!) { triggerDagRun(dagId: $d, input: { runId: "second", logicalDate: "${DAY(5)}" }) { __typename } }`, variables: { d: f.dagId } }),
  unpauseBackfill: (f) => ({ query: `mutation($id: Int!) { unpauseBackfill(id: $id) { id } }`, variables: { id: f.pausedBackfillId } }),
  unpauseDag: (f) => ({ query: `mutation($d: ID!) { unpauseDag(dagId: $d) { dagId } }`, variables: { d: f.dagId } }),
  updatePool: (f) => ({ query: `mutation($n: String!) { updatePool(name: $n, input: { slots: 7 }) { name } }`, variables: { n: f.pool } }),
  upsertDag: (f) => ({ query: `mutation($doc: JSON!) { upsertDag(document: $doc) { created } }`, variables: { doc: dagDocument(`${f.dagId}_new`) } }),
};

function dagDocument(dagId: string) {
  return {
    dagId,
    schedule: '@daily',
    startDate: DAY(1),
    catchup: false,
    defaultArgs: { queue: dagId },
    tasks: [
      { taskId: 'extract', type: 'noop', outlets: [`au://${dagId}`] },
      { taskId: 'load', type: 'noop', dependsOn: ['extract'] },
    ],
  };
}

describe('audit atomicity', () => {
  const h = useTestApp();
  let n = 0;

  /** A DAG with a run whose first task succeeded, a pool, an API key, an active and a paused backfill: all fresh. */
  async function fixture(): Promise<Fixture> {
    const api = new Api(h.t.app);
    const id = ++n;
    const dagId = `au${id}`;
    await api.registerDag(dagDocument(dagId));
    const webhook = await api.ok('POST', '/api/v1/webhooks', { url: `http://127.0.0.1:9/fixture${id}`, eventKinds: ['dag_run_state'], dagIds: [dagId] });
    await api.trigger(dagId, { runId: 'r', logicalDate: DAY(2) });
    const [lease] = await api.lease(`au-w${id}`, { queues: [dagId], capacity: 1 });
    expect((await api.complete(lease.leaseId, { status: 'success' })).status).toBe(200);
    await api.ok('POST', '/api/v1/pools', { name: `au_pool${id}`, slots: 2 });
    const key = await api.ok('POST', '/api/v1/apiKeys', { name: `au fixture ${id}`, role: 'viewer' });
    const backfill = await api.ok('POST', '/api/v1/backfills', { dagId, fromDate: DAY(20), toDate: DAY(21) });
    const paused = await api.ok('POST', '/api/v1/backfills', { dagId, fromDate: DAY(25), toDate: DAY(26), allowConcurrent: true });
    await api.ok('POST', `/api/v1/backfills/${paused.id}/pause`);
    // The outbox's numberer fans the run's events out to the webhook (the delivery loop does not run in tests).
    await h.db.query('SELECT weft_events_number(5000)');
    const delivery = await h.db.query('SELECT id::text FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id LIMIT 1', [webhook.id]);
    return {
      n: id,
      dagId,
      runId: 'r',
      pool: `au_pool${id}`,
      backfillId: backfill.id,
      pausedBackfillId: paused.id,
      apiKeyId: key.id,
      webhookId: webhook.id,
      webhookDeliveryId: delivery.rows[0].id,
    };
  }

  async function failAtCommit(on: boolean): Promise<void> {
    await h.db.query(`ALTER TABLE audit_log ${on ? 'ENABLE' : 'DISABLE'} TRIGGER au_fail_at_commit`);
  }

  async function auditCount(): Promise<number> {
    return (await h.db.query(`SELECT count(*)::int AS n FROM audit_log`)).rows[0].n;
  }

  /** Sends `send` with the failure injected, then without; returns what went wrong, if anything. */
  async function prove(label: string, send: () => Promise<{ status: number; body: unknown }>): Promise<string[]> {
    const problems: string[] = [];
    await failAtCommit(true);
    const before = await tableChecksums(h.db, IGNORED_COLUMNS);
    const failed = await send();
    const changed = changedTables(before, await tableChecksums(h.db, IGNORED_COLUMNS));
    await failAtCommit(false);
    if (failed.status < 500) problems.push(`${label}: answered ${failed.status} with the audit entry failing at commit (a write without an audit entry?) ${JSON.stringify(failed.body)}`);
    if (changed.length) problems.push(`${label}: the audit entry failed at commit, yet ${changed.join(', ')} changed (not one transaction)`);

    const entries = await auditCount();
    const done = await send();
    if (done.status >= 300) problems.push(`${label}: the request itself fails (${done.status} ${JSON.stringify(done.body)}): give it a recipe`);
    else if ((await auditCount()) <= entries) problems.push(`${label}: succeeded without an audit entry`);
    return problems;
  }

  beforeAll(async () => {
    await h.db.query(`CREATE FUNCTION au_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure at commit'; END $$`);
    await h.db.query(`CREATE CONSTRAINT TRIGGER au_fail_at_commit AFTER INSERT ON audit_log DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION au_fail()`);
    await failAtCommit(false);
  });

  it('every administrative REST write and its audit entry roll back together', async () => {
    const api = new Api(h.t.app);
    const doc: Schema = await api.ok('GET', '/api/v1/openapi.json');
    const writes = operations(doc).filter((op) => op.method !== 'GET' && !NOT_ADMINISTRATIVE_REST.has(op.operationId));
    expect(writes.length).toBeGreaterThanOrEqual(18);
    const problems: string[] = [];
    for (const op of writes) {
      const f = await fixture();
      const recipe = REST_RECIPES[op.operationId];
      const call: RestCall = recipe
        ? recipe(f)
        : {
            method: op.method,
            path: op.path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(pathValue(f, name, doc, op.op))),
            body: op.op.requestBody ? sample(doc, op.op.requestBody.content['application/json'].schema) : undefined,
          };
      problems.push(...(await prove(`REST ${op.operationId}`, () => api.call(call.method as 'POST', call.path, call.body))));
    }
    console.log(`audit atomicity: ${writes.length} REST write operations, ${problems.length} problems`);
    expect(problems).toEqual([]);
  });

  it('every administrative GraphQL mutation and its audit entry roll back together', async () => {
    const schema = await graphql(h.t.app, `{ __schema { mutationType { fields { name } } } }`);
    const mutations: string[] = schema.data.__schema.mutationType.fields.map((m: { name: string }) => m.name).filter((m: string) => !NOT_ADMINISTRATIVE_GRAPHQL.has(m));
    expect(mutations.length).toBeGreaterThanOrEqual(19);
    const problems: string[] = [];
    for (const mutation of mutations) {
      const recipe = GRAPHQL_RECIPES[mutation];
      if (!recipe) {
        problems.push(`GraphQL ${mutation}: no recipe; add one to GRAPHQL_RECIPES, or list it in NOT_ADMINISTRATIVE_GRAPHQL after review`);
        continue;
      }
      const f = await fixture();
      const { query, variables } = recipe(f);
      problems.push(
        ...(await prove(`GraphQL ${mutation}`, async () => {
          const res = await graphql(h.t.app, query, variables);
          // A GraphQL error answers 200 with `errors`: count the error's own status.
          const status = res.errors?.length ? Number(res.errors[0].extensions?.statusCode ?? 500) : res.status;
          return { status, body: res.errors ?? res.data };
        })),
      );
    }
    console.log(`audit atomicity: ${mutations.length} GraphQL mutations, ${problems.length} problems`);
    expect(problems).toEqual([]);
  });
});

function pathValue(f: Fixture, name: string, doc: Schema, op: Schema): string {
  const known: Record<string, string> = { dagId: f.dagId, runId: f.runId, taskId: 'extract', name: f.pool, key: 'k' };
  if (known[name]) return known[name];
  if (name === 'id') {
    const schema = resolve(doc, op.parameters.find((p: Schema) => p.name === 'id')?.schema);
    return schema.format === 'uuid' ? f.apiKeyId : String(f.backfillId);
  }
  return String(sample(doc, resolve(doc, op.parameters.find((p: Schema) => p.name === name)?.schema), name));
}
