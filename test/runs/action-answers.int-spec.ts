import { describe, expect, it } from '@jest/globals';
import { Api } from '../support/api.js';
import { useTestApp } from '../support/app.js';
import { graphql } from '../support/graphql.js';
import { operations, type Schema } from '../support/openapi-walk.js';

/**
 * Every action answers with the resource as it is after the action (issue 19.7: marking a failed task success
 * answered `"state": "failed"`). Each write operation of the OpenAPI document and each GraphQL mutation is sent on a
 * fresh fixture, then the resource is read back with a GET: every field the answer shares with the read must be
 * equal. The operations come from the document and the schema, so a new action without a recipe here fails this
 * test until it gets one (or a reviewed place in NO_RESOURCE).
 */

/** Writes whose answer is not a resource to compare, each with the reason. Reviewed. */
const NO_RESOURCE: Record<string, string> = {
  validateDag: 'writes nothing',
  appendLeaseLogs: '204 without a body',
  heartbeatLease: 'answers the lease’s new expiry and whether to stop; no GET shows a lease (test/leases covers the extension)',
  deleteDag: '204 without a body (the read answers 404, checked below)',
  deletePool: '204 without a body (the read answers 404, checked below)',
  deleteWebhook: '204 without a body (the read answers 404, checked below)',
};
const NO_RESOURCE_GRAPHQL: Record<string, string> = {
  deleteDag: 'answers true (the read answers 404, checked below)',
  deletePool: 'answers true (the read answers 404, checked below)',
  deleteWebhook: 'answers true (the read answers 404, checked below)',
};

type Fixture = {
  n: number;
  dagId: string;
  runId: string;
  pool: string;
  backfillId: number;
  pausedBackfillId: number;
  apiKeyId: string;
  leaseId: string;
  webhookId: number;
  webhookDeliveryId: string;
};
type Call = { method: 'POST' | 'PATCH' | 'PUT' | 'DELETE'; path: string; body?: unknown };
/** What the answer must agree with: pairs of (a part of the answer, a GET path and the part of its answer). */
type Check = { what: string; answer: unknown; read: string; pick?: (read: any) => unknown };
type Recipe<C> = { send: (f: Fixture) => C; checks: (f: Fixture, answer: any) => Check[] };

const DAY = (d: number) => `2024-01-${String(d).padStart(2, '0')}T00:00:00Z`;
const run = (f: Fixture, runId = f.runId) => `/api/v1/dags/${f.dagId}/dagRuns/${encodeURIComponent(runId)}`;
const ti = (f: Fixture, taskId: string, runId = f.runId) => `${run(f, runId)}/taskInstances/${taskId}`;
const keyIn = (id: string) => (page: any) => page.items.find((k: { id: string }) => k.id === id);
const webhook = (id: number) => `/api/v1/webhooks/${id}`;
const deliveryIn = (id: string) => (page: any) => page.items.find((d: { id: string }) => String(d.id) === String(id));

/** Each touched task instance (state, try number) as its GET shows it, and the run's state. */
function affected(f: Fixture, answer: any): Check[] {
  const checks: Check[] = answer.taskInstances.map((t: any) => ({
    what: `task instance ${t.taskId}`,
    answer: { state: t.state, tryNumber: t.tryNumber },
    read: ti(f, t.taskId, t.runId),
    pick: (r: any) => ({ state: r.state, tryNumber: r.tryNumber }),
  }));
  expect(answer.taskInstances.length).toBeGreaterThan(0);
  if ('runState' in answer) checks.push({ what: 'the run', answer: answer.runState, read: run(f), pick: (r) => r.state });
  return checks;
}

const REST: Record<string, Recipe<Call>> = {
  createApiKey: {
    send: (f) => ({ method: 'POST', path: '/api/v1/apiKeys', body: { name: `aa key ${f.n}`, role: 'viewer' } }),
    checks: (_f, a) => [{ what: 'the key', answer: a, read: '/api/v1/apiKeys?limit=500', pick: keyIn(a.id) }],
  },
  revokeApiKey: {
    send: (f) => ({ method: 'DELETE', path: `/api/v1/apiKeys/${f.apiKeyId}` }),
    checks: (f, a) => [{ what: 'the key', answer: a, read: '/api/v1/apiKeys?limit=500', pick: keyIn(f.apiKeyId) }],
  },
  upsertDag: {
    send: (f) => ({ method: 'POST', path: '/api/v1/dags', body: { ...dagDocument(f.dagId), description: 'changed' } }),
    checks: (f, a) => [{ what: 'the DAG', answer: a.dag, read: `/api/v1/dags/${f.dagId}` }],
  },
  patchDag: {
    send: (f) => ({ method: 'PATCH', path: `/api/v1/dags/${f.dagId}`, body: { isPaused: true } }),
    checks: (f, a) => [{ what: 'the DAG', answer: a, read: `/api/v1/dags/${f.dagId}` }],
  },
  triggerDagRun: {
    send: (f) => ({ method: 'POST', path: `/api/v1/dags/${f.dagId}/dagRuns`, body: { runId: 'second', logicalDate: DAY(5) } }),
    checks: (f, a) => [{ what: 'the run', answer: a, read: run(f, 'second') }],
  },
  patchDagRun: {
    send: (f) => ({ method: 'PATCH', path: run(f), body: { state: 'success' } }),
    checks: (f, a) => [{ what: 'the run', answer: a, read: run(f) }],
  },
  patchTaskInstance: {
    // The case of the issue: a failed task marked success.
    send: (f) => ({ method: 'PATCH', path: ti(f, 'extract'), body: { newState: 'success' } }),
    checks: (f, a) => {
      expect(a.taskInstances).toEqual([expect.objectContaining({ taskId: 'extract', state: 'success', previousState: 'failed' })]);
      return affected(f, a);
    },
  },
  patchMappedTaskInstance: {
    // One instance by its map index (−1: the unmapped task's own).
    send: (f) => ({ method: 'PATCH', path: `${ti(f, 'extract')}/-1`, body: { newState: 'success' } }),
    checks: (f, a) => {
      expect(a.taskInstances).toEqual([expect.objectContaining({ taskId: 'extract', mapIndex: -1, state: 'success', previousState: 'failed' })]);
      return affected(f, a);
    },
  },
  clearTaskInstances: {
    send: (f) => ({ method: 'POST', path: `/api/v1/dags/${f.dagId}/clearTaskInstances`, body: { taskIds: ['extract'], includeDownstream: true, dryRun: false } }),
    checks: (f, a) => {
      expect(a.taskInstances).toContainEqual(expect.objectContaining({ taskId: 'extract', previousState: 'failed' }));
      expect(a.taskInstances.find((t: any) => t.taskId === 'extract').state).not.toBe('failed');
      return affected(f, a);
    },
  },
  setXcomEntry: {
    send: (f) => ({ method: 'PUT', path: `${ti(f, 'extract')}/xcomEntries/k`, body: { value: 42 } }),
    checks: (f, a) => [{ what: 'the entry', answer: a, read: `${ti(f, 'extract')}/xcomEntries/k` }],
  },
  setMappedXcomEntry: {
    // One instance by its map index (−1: the unmapped task's own).
    send: (f) => ({ method: 'PUT', path: `${ti(f, 'extract')}/-1/xcomEntries/k`, body: { value: 43 } }),
    checks: (f, a) => [{ what: 'the entry', answer: a, read: `${ti(f, 'extract')}/-1/xcomEntries/k` }],
  },
  createPool: {
    send: (f) => ({ method: 'POST', path: '/api/v1/pools', body: { name: `${f.pool}_new`, slots: 3 } }),
    checks: (f, a) => [{ what: 'the pool', answer: a, read: `/api/v1/pools/${f.pool}_new` }],
  },
  patchPool: {
    send: (f) => ({ method: 'PATCH', path: `/api/v1/pools/${f.pool}`, body: { slots: 7 } }),
    checks: (f, a) => [{ what: 'the pool', answer: a, read: `/api/v1/pools/${f.pool}` }],
  },
  createBackfill: {
    send: (f) => ({ method: 'POST', path: '/api/v1/backfills', body: { dagId: f.dagId, fromDate: DAY(10), toDate: DAY(12), allowConcurrent: true } }),
    checks: (_f, a) => [{ what: 'the backfill', answer: a, read: `/api/v1/backfills/${a.id}` }],
  },
  pauseBackfill: {
    send: (f) => ({ method: 'POST', path: `/api/v1/backfills/${f.backfillId}/pause` }),
    checks: (f, a) => [{ what: 'the backfill', answer: a, read: `/api/v1/backfills/${f.backfillId}` }],
  },
  unpauseBackfill: {
    send: (f) => ({ method: 'POST', path: `/api/v1/backfills/${f.pausedBackfillId}/unpause` }),
    checks: (f, a) => [{ what: 'the backfill', answer: a, read: `/api/v1/backfills/${f.pausedBackfillId}` }],
  },
  cancelBackfill: {
    send: (f) => ({ method: 'POST', path: `/api/v1/backfills/${f.backfillId}/cancel` }),
    checks: (f, a) => [{ what: 'the backfill', answer: a, read: `/api/v1/backfills/${f.backfillId}` }],
  },
  postDatasetEvent: {
    send: (f) => ({ method: 'POST', path: '/api/v1/datasets/events', body: { uri: `aa://ds${f.n}`, extra: { by: 'test' } } }),
    checks: (f, a) => [
      { what: 'the event', answer: a, read: `/api/v1/datasets/events?uri=${encodeURIComponent(`aa://ds${f.n}`)}`, pick: (p) => p.items.find((e: any) => e.id === a.id) },
    ],
  },
  leaseTasks: {
    send: (f) => ({ method: 'POST', path: `/api/v1/workers/aa-w${f.n}/lease`, body: { queues: [f.dagId], capacity: 1, waitSeconds: 0 } }),
    checks: (f, a) => {
      expect(a.leases).toHaveLength(1);
      const l = a.leases[0];
      return [{ what: 'the leased task instance', answer: { state: 'running', tryNumber: l.tryNumber }, read: ti(f, l.taskId, l.runId), pick: (r) => ({ state: r.state, tryNumber: r.tryNumber }) }];
    },
  },
  createWebhook: {
    send: (f) => ({ method: 'POST', path: '/api/v1/webhooks', body: { url: `http://127.0.0.1:9/aa${f.n}`, eventKinds: ['dag_run_state'], secret: 's' } }),
    checks: (_f, a) => [{ what: 'the webhook', answer: a, read: webhook(a.id) }],
  },
  patchWebhook: {
    send: (f) => ({ method: 'PATCH', path: webhook(f.webhookId), body: { enabled: false } }),
    checks: (f, a) => {
      expect(a.enabled).toBe(false);
      return [{ what: 'the webhook', answer: a, read: webhook(f.webhookId) }];
    },
  },
  redeliverWebhookDelivery: {
    send: (f) => ({ method: 'POST', path: `${webhook(f.webhookId)}/deliveries/${f.webhookDeliveryId}/redeliver` }),
    checks: (f, a) => [{ what: 'the redelivery', answer: a, read: `${webhook(f.webhookId)}/deliveries?limit=500`, pick: deliveryIn(a.id) }],
  },
  completeLease: {
    send: (f) => ({ method: 'POST', path: `/api/v1/leases/${f.leaseId}/complete`, body: { status: 'success' } }),
    checks: (f, a) => [
      { what: 'the task instance', answer: a.taskState, read: ti(f, 'retry'), pick: (r) => r.state },
      { what: 'the run', answer: a.runState, read: run(f), pick: (r) => r.state },
    ],
  },
};

const gqlAffected = 'dryRun taskInstances { runId taskId state previousState tryNumber }';
const GRAPHQL: Record<string, Recipe<{ query: string; variables?: Record<string, unknown> }>> = {
  createApiKey: {
    send: (f) => ({ query: `mutation($n: String!) { createApiKey(input: { name: $n, role: viewer }) { id name role prefix createdAt revokedAt } }`, variables: { n: `aa gql key ${f.n}` } }),
    checks: (_f, a) => [{ what: 'the key', answer: a.createApiKey, read: '/api/v1/apiKeys?limit=500', pick: keyIn(a.createApiKey.id) }],
  },
  revokeApiKey: {
    send: (f) => ({ query: `mutation($id: ID!) { revokeApiKey(id: $id) { id name revokedAt } }`, variables: { id: f.apiKeyId } }),
    checks: (f, a) => [{ what: 'the key', answer: a.revokeApiKey, read: '/api/v1/apiKeys?limit=500', pick: keyIn(f.apiKeyId) }],
  },
  upsertDag: {
    send: (f) => ({ query: `mutation($doc: JSON!) { upsertDag(document: $doc) { dag { dagId isPaused description } } }`, variables: { doc: { ...dagDocument(f.dagId), description: 'changed' } } }),
    checks: (f, a) => [{ what: 'the DAG', answer: a.upsertDag.dag, read: `/api/v1/dags/${f.dagId}` }],
  },
  pauseDag: {
    send: (f) => ({ query: `mutation($d: ID!) { pauseDag(dagId: $d) { dagId isPaused } }`, variables: { d: f.dagId } }),
    checks: (f, a) => [{ what: 'the DAG', answer: a.pauseDag, read: `/api/v1/dags/${f.dagId}` }],
  },
  unpauseDag: {
    send: (f) => ({ query: `mutation($d: ID!) { unpauseDag(dagId: $d) { dagId isPaused } }`, variables: { d: f.dagId } }),
    checks: (f, a) => [{ what: 'the DAG', answer: a.unpauseDag, read: `/api/v1/dags/${f.dagId}` }],
  },
  triggerDagRun: {
    send: (f) => ({ query: `mutation($d: ID!) { triggerDagRun(dagId: $d, input: { runId: "second", logicalDate: "${DAY(5)}" }) { run { runId state } } }`, variables: { d: f.dagId } }),
    checks: (f, a) => [{ what: 'the run', answer: a.triggerDagRun.run, read: run(f, 'second') }],
  },
  markDagRun: {
    send: (f) => ({ query: `mutation($d: ID!, $r: String!) { markDagRun(dagId: $d, runId: $r, state: success) { runId state } }`, variables: { d: f.dagId, r: f.runId } }),
    checks: (f, a) => [{ what: 'the run', answer: a.markDagRun, read: run(f) }],
  },
  markTaskInstance: {
    send: (f) => ({
      query: `mutation($d: ID!, $r: String!) { markTaskInstance(dagId: $d, runId: $r, taskId: "extract", input: { newState: success }) { ${gqlAffected} runState } }`,
      variables: { d: f.dagId, r: f.runId },
    }),
    checks: (f, a) => {
      expect(a.markTaskInstance.taskInstances).toEqual([expect.objectContaining({ taskId: 'extract', state: 'success', previousState: 'failed' })]);
      return affected(f, a.markTaskInstance);
    },
  },
  clearTaskInstances: {
    send: (f) => ({
      query: `mutation($d: ID!) { clearTaskInstances(dagId: $d, input: { taskIds: ["extract"], includeDownstream: true, dryRun: false }) { ${gqlAffected} } }`,
      variables: { d: f.dagId },
    }),
    checks: (f, a) => affected(f, a.clearTaskInstances),
  },
  setXcomEntry: {
    send: (f) => ({ query: `mutation($d: ID!, $r: String!) { setXcomEntry(dagId: $d, runId: $r, taskId: "extract", key: "k", value: 42) { key value } }`, variables: { d: f.dagId, r: f.runId } }),
    checks: (f, a) => [{ what: 'the entry', answer: a.setXcomEntry, read: `${ti(f, 'extract')}/xcomEntries/k` }],
  },
  createPool: {
    send: (f) => ({ query: `mutation($n: String!) { createPool(input: { name: $n, slots: 3 }) { name slots } }`, variables: { n: `${f.pool}_new` } }),
    checks: (f, a) => [{ what: 'the pool', answer: a.createPool, read: `/api/v1/pools/${f.pool}_new` }],
  },
  updatePool: {
    send: (f) => ({ query: `mutation($n: String!) { updatePool(name: $n, input: { slots: 7 }) { name slots } }`, variables: { n: f.pool } }),
    checks: (f, a) => [{ what: 'the pool', answer: a.updatePool, read: `/api/v1/pools/${f.pool}` }],
  },
  createBackfill: {
    send: (f) => ({
      query: `mutation($d: ID!) { createBackfill(input: { dagId: $d, fromDate: "${DAY(10)}", toDate: "${DAY(12)}", allowConcurrent: true }) { backfill { id state isPaused } } }`,
      variables: { d: f.dagId },
    }),
    checks: (_f, a) => [{ what: 'the backfill', answer: a.createBackfill.backfill, read: `/api/v1/backfills/${a.createBackfill.backfill.id}` }],
  },
  pauseBackfill: {
    send: (f) => ({ query: `mutation($id: Int!) { pauseBackfill(id: $id) { id state isPaused } }`, variables: { id: f.backfillId } }),
    checks: (f, a) => [{ what: 'the backfill', answer: a.pauseBackfill, read: `/api/v1/backfills/${f.backfillId}` }],
  },
  unpauseBackfill: {
    send: (f) => ({ query: `mutation($id: Int!) { unpauseBackfill(id: $id) { id state isPaused } }`, variables: { id: f.pausedBackfillId } }),
    checks: (f, a) => [{ what: 'the backfill', answer: a.unpauseBackfill, read: `/api/v1/backfills/${f.pausedBackfillId}` }],
  },
  cancelBackfill: {
    send: (f) => ({ query: `mutation($id: Int!) { cancelBackfill(id: $id) { id state isPaused } }`, variables: { id: f.backfillId } }),
    checks: (f, a) => [{ what: 'the backfill', answer: a.cancelBackfill, read: `/api/v1/backfills/${f.backfillId}` }],
  },
  postDatasetEvent: {
    send: (f) => ({ query: `mutation($u: String!) { postDatasetEvent(input: { uri: $u }) { id } }`, variables: { u: `aa://ds${f.n}` } }),
    checks: (f, a) => [
      {
        what: 'the event',
        answer: a.postDatasetEvent,
        read: `/api/v1/datasets/events?uri=${encodeURIComponent(`aa://ds${f.n}`)}`,
        pick: (p) => p.items.find((e: any) => String(e.id) === String(a.postDatasetEvent.id)),
      },
    ],
  },
  createWebhook: {
    send: (f) => ({ query: `mutation($u: String!) { createWebhook(input: { url: $u, eventKinds: [sla_miss] }) { id url enabled } }`, variables: { u: `http://127.0.0.1:9/aag${f.n}` } }),
    checks: (_f, a) => [{ what: 'the webhook', answer: a.createWebhook, read: webhook(a.createWebhook.id) }],
  },
  updateWebhook: {
    send: (f) => ({ query: `mutation($id: Int!) { updateWebhook(id: $id, input: { enabled: false }) { id url enabled } }`, variables: { id: f.webhookId } }),
    checks: (f, a) => {
      expect(a.updateWebhook.enabled).toBe(false);
      return [{ what: 'the webhook', answer: a.updateWebhook, read: webhook(f.webhookId) }];
    },
  },
  redeliverWebhookDelivery: {
    send: (f) => ({
      query: `mutation($w: Int!, $d: ID!) { redeliverWebhookDelivery(webhookId: $w, deliveryId: $d) { id state } }`,
      variables: { w: f.webhookId, d: f.webhookDeliveryId },
    }),
    checks: (f, a) => [
      { what: 'the redelivery', answer: a.redeliverWebhookDelivery, read: `${webhook(f.webhookId)}/deliveries?limit=500`, pick: deliveryIn(a.redeliverWebhookDelivery.id) },
    ],
  },
};

function dagDocument(dagId: string) {
  return {
    dagId,
    schedule: '@daily',
    startDate: DAY(1),
    catchup: false,
    defaultArgs: { queue: dagId },
    tasks: [
      { taskId: 'extract', type: 'noop' },
      { taskId: 'load', type: 'noop', dependsOn: ['extract'] },
      { taskId: 'retry', type: 'noop', retries: 1 },
    ],
  };
}

/** The fields of `answer` that `read` also has, where they differ (ids compared as strings: GraphQL's ID). */
function differences(answer: unknown, read: unknown, path = ''): string[] {
  if (answer && typeof answer === 'object' && read && typeof read === 'object' && !Array.isArray(answer)) {
    return Object.entries(answer).flatMap(([k, v]) => (k in read ? differences(v, (read as Record<string, unknown>)[k], `${path}.${k}`) : []));
  }
  const same = JSON.stringify(answer) === JSON.stringify(read) || (typeof answer !== 'object' && String(answer) === String(read));
  return same ? [] : [`${path || 'value'}: answered ${JSON.stringify(answer)}, read back ${JSON.stringify(read)}`];
}

describe('every action answers with the resource as it is afterwards', () => {
  const h = useTestApp();
  let n = 0;

  /**
   * A DAG whose run has `extract` failed (so `load` is upstream_failed) and `retry` running under a live lease; a
   * pool, an API key, an active and a paused backfill.
   */
  async function fixture(): Promise<Fixture> {
    const api = new Api(h.t.app);
    const id = ++n;
    const dagId = `aa${id}`;
    await api.registerDag(dagDocument(dagId));
    await api.trigger(dagId, { runId: 'r', logicalDate: DAY(2) });
    const leases = await api.lease(`aa-f${id}`, { queues: [dagId], capacity: 2 });
    const byTask = Object.fromEntries(leases.map((l) => [l.taskId, l]));
    expect((await api.complete(byTask.extract.leaseId, { status: 'failed', retryable: false })).status).toBe(200);
    await api.ok('POST', '/api/v1/pools', { name: `aa_pool${id}`, slots: 2 });
    const key = await api.ok('POST', '/api/v1/apiKeys', { name: `aa fixture ${id}`, role: 'viewer' });
    const backfill = await api.ok('POST', '/api/v1/backfills', { dagId, fromDate: DAY(20), toDate: DAY(21) });
    const paused = await api.ok('POST', '/api/v1/backfills', { dagId, fromDate: DAY(25), toDate: DAY(26), allowConcurrent: true });
    await api.ok('POST', `/api/v1/backfills/${paused.id}/pause`);
    const hook = await api.ok('POST', '/api/v1/webhooks', { url: `http://127.0.0.1:9/aa-fixture${id}`, eventKinds: ['dag_run_state'], dagIds: [dagId] });
    await api.trigger(dagId, { runId: 'hooked', logicalDate: DAY(3) });
    // The outbox's numberer fans the run's events out to the webhook (the delivery loop does not run in tests).
    await h.db.query('SELECT weft_events_number(5000)');
    const delivery = await h.db.query<{ id: string }>('SELECT id::text FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id LIMIT 1', [hook.id]);
    expect(delivery.rows).toHaveLength(1);
    return {
      n: id,
      dagId,
      runId: 'r',
      pool: `aa_pool${id}`,
      backfillId: backfill.id,
      pausedBackfillId: paused.id,
      apiKeyId: key.id,
      leaseId: byTask.retry.leaseId,
      webhookId: hook.id,
      webhookDeliveryId: delivery.rows[0]!.id,
    };
  }

  async function verify(label: string, checks: Check[]): Promise<string[]> {
    const api = new Api(h.t.app);
    const problems: string[] = [];
    for (const c of checks) {
      const read = await api.call('GET', c.read);
      if (read.status !== 200) problems.push(`${label}: reading ${c.what} back (GET ${c.read}) answered ${read.status}`);
      else problems.push(...differences(c.answer, c.pick ? c.pick(read.body) : read.body).map((d) => `${label}, ${c.what}: ${d}`));
    }
    return problems;
  }

  it('REST: every write operation', async () => {
    const api = new Api(h.t.app);
    const doc: Schema = await api.ok('GET', '/api/v1/openapi.json');
    const writes = operations(doc).filter((op) => op.method !== 'GET' && !(op.operationId in NO_RESOURCE));
    expect(writes.length).toBeGreaterThanOrEqual(18);
    const problems: string[] = [];
    for (const op of writes) {
      const recipe = REST[op.operationId];
      if (!recipe) {
        problems.push(`REST ${op.operationId}: no recipe; add one to REST, or to NO_RESOURCE with the reason after review`);
        continue;
      }
      const f = await fixture();
      const call = recipe.send(f);
      const res = await api.call(call.method, call.path, call.body);
      if (res.status >= 300) problems.push(`REST ${op.operationId}: ${res.status} ${JSON.stringify(res.body)}`);
      else problems.push(...(await verify(`REST ${op.operationId}`, recipe.checks(f, res.body))));
    }
    const f = await fixture();
    expect((await api.call('DELETE', `/api/v1/dags/${f.dagId}`)).status).toBeLessThan(300);
    expect((await api.call('GET', `/api/v1/dags/${f.dagId}`)).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/pools/${f.pool}`)).status).toBeLessThan(300);
    expect((await api.call('GET', `/api/v1/pools/${f.pool}`)).status).toBe(404);
    expect((await api.call('DELETE', webhook(f.webhookId))).status).toBe(204);
    expect((await api.call('GET', webhook(f.webhookId))).status).toBe(404);
    expect(problems).toEqual([]);
  });

  it('GraphQL: every mutation', async () => {
    const api = new Api(h.t.app);
    const schema = await graphql(h.t.app, `{ __schema { mutationType { fields { name } } } }`);
    const mutations: string[] = schema.data.__schema.mutationType.fields.map((m: { name: string }) => m.name).filter((m: string) => !(m in NO_RESOURCE_GRAPHQL));
    expect(mutations.length).toBeGreaterThanOrEqual(17);
    const problems: string[] = [];
    for (const mutation of mutations) {
      const recipe = GRAPHQL[mutation];
      if (!recipe) {
        problems.push(`GraphQL ${mutation}: no recipe; add one to GRAPHQL, or to NO_RESOURCE_GRAPHQL with the reason after review`);
        continue;
      }
      const f = await fixture();
      const { query, variables } = recipe.send(f);
      const res = await graphql(h.t.app, query, variables);
      if (res.errors?.length) problems.push(`GraphQL ${mutation}: ${JSON.stringify(res.errors)}`);
      else problems.push(...(await verify(`GraphQL ${mutation}`, recipe.checks(f, res.data))));
    }
    const f = await fixture();
    expect((await graphql(h.t.app, `mutation($d: ID!) { deleteDag(dagId: $d) }`, { d: f.dagId })).data).toEqual({ deleteDag: true });
    expect((await api.call('GET', `/api/v1/dags/${f.dagId}`)).status).toBe(404);
    expect((await graphql(h.t.app, `mutation($n: String!) { deletePool(name: $n) }`, { n: f.pool })).data).toEqual({ deletePool: true });
    expect((await api.call('GET', `/api/v1/pools/${f.pool}`)).status).toBe(404);
    expect((await graphql(h.t.app, `mutation($id: Int!) { deleteWebhook(id: $id) }`, { id: f.webhookId })).data).toEqual({ deleteWebhook: true });
    expect((await api.call('GET', webhook(f.webhookId))).status).toBe(404);
    expect(problems).toEqual([]);
  });
});
