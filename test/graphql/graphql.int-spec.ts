import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { DagsRepository } from '../../src/dags/dags.repository.js';
import { SESSION_SETTINGS_SQL } from '../../src/database/pool.js';
import { schemaSdl } from '../../src/graphql/schema.js';
import { PoolsService } from '../../src/pools/pools.service.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { graphql, graphqlOk } from '../support/graphql.js';

let t: TestApp;
let api: Api;
const gql = (query: string, variables?: Record<string, unknown>) => graphql(t.app, query, variables);
const ok = (query: string, variables?: Record<string, unknown>) => graphqlOk(t.app, query, variables);

beforeAll(async () => {
  t = await startTestApp();
  api = new Api(t.app);
});
afterAll(async () => {
  await t?.close();
});

/** Counts SQL round trips (every statement on any pooled connection, Prisma's included) while `fn` runs. */
async function countingSql<T>(fn: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  let statements = 0;
  proto.query = function (this: unknown, ...args: unknown[]) {
    // A connection's setup (its session bounds) is not a round trip of the request.
    if (args[0] !== SESSION_SETTINGS_SQL) statements++;
    return original.apply(this, args);
  };
  try {
    return { result: await fn(), statements };
  } finally {
    proto.query = original;
  }
}

describe('schema', () => {
  it('is the one committed in clients/schema.graphql (npm run graphql:schema)', () => {
    const served = schemaSdl(t.app.get(GraphQLSchemaHost).schema);
    expect(served).toBe(readFileSync(new URL('../../clients/schema.graphql', import.meta.url), 'utf8'));
  });
});

describe('DAGs', () => {
  const doc = dag('gql_dag', [{ taskId: 'a' }, { taskId: 'b', dependsOn: ['a'] }], { tags: ['gql'], params: { region: 'eu' } });

  it('registers, versions, lists, pauses and deletes through the same rules as REST', async () => {
    const upsert = `mutation($d: JSON!) { upsertDag(document: $d) { created changed version dag { dagId tags isPaused source latestVersion } } }`;
    const first = await ok(upsert, { d: doc });
    expect(first.upsertDag).toEqual({
      created: true,
      changed: true,
      version: 1,
      dag: { dagId: 'gql_dag', tags: ['gql'], isPaused: false, source: 'api', latestVersion: 1 },
    });
    expect((await ok(upsert, { d: doc })).upsertDag).toMatchObject({ created: false, changed: false, version: 1 });
    expect((await ok(upsert, { d: { ...doc, description: 'v2' } })).upsertDag).toMatchObject({ changed: true, version: 2 });

    const { dag: one } = await ok(`{ dag(dagId: "gql_dag") {
      dagId description document versions(limit: 1) { totalEntries limit offset items { version contentHash document createdAt } } } }`);
    expect(one).toMatchObject({ dagId: 'gql_dag', description: 'v2', document: { dagId: 'gql_dag', description: 'v2', params: { region: 'eu' } } });
    expect(one.versions).toMatchObject({ totalEntries: 2, limit: 1, offset: 0, items: [{ version: 2, document: { description: 'v2' } }] });
    expect(one.versions.items[0].createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const { dagVersion } = await ok(`{ dagVersion(dagId: "gql_dag", version: 1) { version document } }`);
    expect(dagVersion.version).toBe(1);
    expect(dagVersion.document.description).not.toBe('v2');

    const list = await ok(`{ dags(filter: { tag: "gql" }) { totalEntries items { dagId document versions { totalEntries } } } }`);
    expect(list.dags).toEqual({ totalEntries: 1, items: [{ dagId: 'gql_dag', document: expect.objectContaining({ dagId: 'gql_dag' }), versions: { totalEntries: 2 } }] });
    // Same answer as REST's list.
    const rest = await api.ok('GET', '/api/v1/dags?tag=gql');
    expect(rest.totalEntries).toBe(1);

    expect((await ok(`mutation { pauseDag(dagId: "gql_dag") { isPaused } }`)).pauseDag.isPaused).toBe(true);
    expect((await ok(`{ dags(filter: { paused: true, dagIdPrefix: "gql_" }) { items { dagId } } }`)).dags.items).toEqual([{ dagId: 'gql_dag' }]);
    expect((await ok(`mutation { unpauseDag(dagId: "gql_dag") { isPaused } }`)).unpauseDag.isPaused).toBe(false);

    await ok(upsert, { d: dag('gql_doomed', [{ taskId: 'x' }]) });
    expect(await ok(`mutation { deleteDag(dagId: "gql_doomed") }`)).toEqual({ deleteDag: true });
    expect((await api.call('GET', '/api/v1/dags/gql_doomed')).status).toBe(404);
  });

  it('lists import errors of the DAG folder', async () => {
    await t.app.get(DagsRepository).recordImportError('/dags/broken.yaml', 'tasks[0].taskId: required', [{ path: 'tasks[0].taskId', message: 'required' }]);
    const { importErrors } = await ok(`{ importErrors { totalEntries items { fileloc message details updatedAt } } }`);
    expect(importErrors).toMatchObject({
      totalEntries: 1,
      items: [{ fileloc: '/dags/broken.yaml', message: 'tasks[0].taskId: required', details: [{ path: 'tasks[0].taskId' }] }],
    });
  });
});

describe('runs and task instances', () => {
  beforeAll(async () => {
    await api.registerDag(dag('gql_runs', [{ taskId: 'extract' }, { taskId: 'load', dependsOn: ['extract'], retries: 1 }]));
  });

  it('triggers a run, reads it with task instances, tries and XCom, and lists runs with filters', async () => {
    const trigger = `mutation($input: TriggerDagRunInput) { triggerDagRun(dagId: "gql_runs", input: $input) {
      created run { runId state runType logicalDate conf } } }`;
    const input = { runId: 'r1', logicalDate: '2024-05-01T00:00:00+02:00', conf: { who: 'gql' } };
    const { triggerDagRun } = await ok(trigger, { input });
    expect(triggerDagRun).toEqual({
      created: true,
      run: { runId: 'r1', state: 'running', runType: 'manual', logicalDate: '2024-04-30T22:00:00.000Z', conf: { who: 'gql' } },
    });
    expect((await ok(trigger, { input })).triggerDagRun.created).toBe(false);

    const [extract] = await api.lease('gql-worker', { queues: ['gql_runs'] });
    expect((await api.complete(extract.leaseId, { status: 'success', xcom: { rows: 3 } })).status).toBe(200);
    const [load] = await api.lease('gql-worker', { queues: ['gql_runs'] });
    await api.complete(load.leaseId, { status: 'failed', error: 'boom' });
    await api.tick(new Date(Date.now() + 3600_000)); // past the retry delay
    const [retry] = await api.lease('gql-worker', { queues: ['gql_runs'] });
    await api.complete(retry.leaseId, { status: 'success' });

    const { dagRun } = await ok(`{ dagRun(dagId: "gql_runs", runId: "r1") {
      runId state taskInstances { taskId state tryNumber maxTries durationSec tries { tryNumber state workerId error } xcomEntries { key value tryNumber } } } }`);
    expect(dagRun.state).toBe('success');
    const byTask = Object.fromEntries(dagRun.taskInstances.map((ti: any) => [ti.taskId, ti]));
    expect(byTask.extract).toMatchObject({ state: 'success', tryNumber: 1, xcomEntries: [{ key: 'rows', value: 3, tryNumber: 1 }] });
    expect(byTask.extract.tries).toEqual([{ tryNumber: 1, state: 'success', workerId: 'gql-worker', error: null }]);
    expect(byTask.load.tries.map((x: any) => [x.tryNumber, x.state])).toEqual([[1, 'up_for_retry'], [2, 'success']]);
    expect(byTask.load.tries[0].error).toBe('boom');
    expect(typeof byTask.load.durationSec).toBe('number');

    const { taskInstances } = await ok(`{ taskInstances(dagId: "gql_runs", runId: "r1") { taskId tries { tryNumber } } }`);
    expect(taskInstances.map((ti: any) => ti.taskId).sort()).toEqual(['extract', 'load']);
    const { taskInstance } = await ok(`{ taskInstance(dagId: "gql_runs", runId: "r1", taskId: "load") { taskId tryNumber } }`);
    expect(taskInstance).toEqual({ taskId: 'load', tryNumber: 2 });
    // The same view as REST.
    const rest = await api.ok('GET', '/api/v1/dags/gql_runs/dagRuns/r1/taskInstances/load');
    expect(rest.tries).toHaveLength(2);

    await ok(trigger, { input: { runId: 'r2', logicalDate: '2024-05-02T00:00:00Z' } });
    const runs = await ok(`{ dagRuns(dagId: "gql_runs", filter: { state: [running], logicalDateGte: "2024-05-01T00:00:00Z" }) {
      totalEntries items { runId state } } }`);
    expect(runs.dagRuns).toEqual({ totalEntries: 1, items: [{ runId: 'r2', state: 'running' }] });
    const all = await ok(`{ dagRuns(dagId: "gql_runs", limit: 1, offset: 1) { totalEntries limit offset items { runId } } }`);
    expect(all.dagRuns).toEqual({ totalEntries: 2, limit: 1, offset: 1, items: [{ runId: 'r1' }] });
  });

  it('reads and sets XCom entries', async () => {
    const { xcomEntries } = await ok(`{ xcomEntries(dagId: "gql_runs", runId: "r1", taskId: "extract") { key value } }`);
    expect(xcomEntries).toEqual([{ key: 'rows', value: 3 }]);
    const set = await ok(`mutation { setXcomEntry(dagId: "gql_runs", runId: "r1", taskId: "extract", key: "fixed", value: { ok: [1, 2] }) { key value } }`);
    expect(set.setXcomEntry).toEqual({ key: 'fixed', value: { ok: [1, 2] } });
    const rest = await api.ok('GET', '/api/v1/dags/gql_runs/dagRuns/r1/taskInstances/extract/xcomEntries/fixed');
    expect(rest.value).toEqual({ ok: [1, 2] });
  });

  it('clears (dry run by default, then for real) and marks task instances and runs', async () => {
    const clear = `mutation($input: ClearTaskInstancesInput) { clearTaskInstances(dagId: "gql_runs", input: $input) {
      dryRun taskInstances { runId taskId state tryNumber } } }`;
    const dry = await ok(clear, { input: { runIds: ['r1'], taskIds: ['load'] } });
    expect(dry.clearTaskInstances).toEqual({ dryRun: true, taskInstances: [{ runId: 'r1', taskId: 'load', state: 'success', tryNumber: 2 }] });
    expect(await api.taskStates('gql_runs', 'r1')).toEqual({ extract: 'success', load: 'success' });

    const real = await ok(clear, { input: { runIds: ['r1'], taskIds: ['load'], dryRun: false } });
    expect(real.clearTaskInstances.dryRun).toBe(false);
    expect((await api.taskStates('gql_runs', 'r1')).load).not.toBe('success');

    const mark = await ok(`mutation { markTaskInstance(dagId: "gql_runs", runId: "r1", taskId: "load", input: { newState: success }) {
      dryRun runState taskInstances { taskId } } }`);
    expect(mark.markTaskInstance).toEqual({ dryRun: false, runState: 'success', taskInstances: [{ taskId: 'load' }] });

    const { markDagRun } = await ok(`mutation { markDagRun(dagId: "gql_runs", runId: "r2", state: failed) { runId state } }`);
    expect(markDagRun).toEqual({ runId: 'r2', state: 'failed' });
    expect((await api.run('gql_runs', 'r2')).state).toBe('failed');
  });
});

describe('nested fields', () => {
  /** Registers a DAG of `width` parallel tasks in two versions and runs it `runs` times to the end (one try each, with XCom). */
  async function runDag(dagId: string, width: number, runs: number): Promise<void> {
    const tasks = Array.from({ length: width }, (_, i) => ({ taskId: `t${i}` }));
    await api.registerDag(dag(dagId, tasks));
    await api.registerDag(dag(dagId, tasks, { description: 'second version' }));
    for (let day = 1; day <= runs; day++) await api.trigger(dagId, { runId: `day${day}`, logicalDate: `2024-01-0${day}T00:00:00Z` });
    await api.drain(dagId, () => ({ status: 'success', xcom: { n: 1 } }));
  }

  const query = `query($prefix: String!, $dagId: ID!) {
    dags(filter: { dagIdPrefix: $prefix }) { items { dagId document versions { totalEntries items { version } } } }
    dagRuns(dagId: $dagId) { items { runId taskInstances { taskId state tries { tryNumber state } xcomEntries { key value } } } }
  }`;

  it('costs the same number of SQL round trips for 1 run of 2 task instances and for 3 runs of 100', async () => {
    await runDag('nplus_small', 2, 1);
    await runDag('nplus_large', 100, 3);

    const small = await countingSql(() => ok(query, { prefix: 'nplus_small', dagId: 'nplus_small' }));
    const large = await countingSql(() => ok(query, { prefix: 'nplus_large', dagId: 'nplus_large' }));

    const tis = large.result.dagRuns.items.flatMap((r: any) => r.taskInstances);
    expect(tis).toHaveLength(300);
    expect(tis.every((ti: any) => ti.state === 'success' && ti.tries.length === 1 && ti.xcomEntries[0]?.value === 1)).toBe(true);
    expect(large.result.dags.items[0].versions.totalEntries).toBe(2);
    expect(large.statements).toBe(small.statements);
    // dags (count + page), documents, versions (page + totals), the run list (DAG check, count + page),
    // task instances, tries and XCom: a handful, whatever the width.
    expect(large.statements).toBeLessThanOrEqual(20);
  });
});

describe('pools', () => {
  it('creates, reads, updates and deletes', async () => {
    const created = await ok(`mutation { createPool(input: { name: "gql_pool", slots: 3, description: "d" }) { name slots description openSlots runningSlots queuedSlots } }`);
    expect(created.createPool).toEqual({ name: 'gql_pool', slots: 3, description: 'd', openSlots: 3, runningSlots: 0, queuedSlots: 0 });
    const updated = await ok(`mutation { updatePool(name: "gql_pool", input: { slots: 5, description: null }) { slots description } }`);
    expect(updated.updatePool).toEqual({ slots: 5, description: null });
    expect((await ok(`{ pool(name: "gql_pool") { slots } }`)).pool.slots).toBe(5);
    const { pools } = await ok(`{ pools { totalEntries items { name } } }`);
    expect(pools.items.map((p: any) => p.name)).toEqual(expect.arrayContaining(['default_pool', 'gql_pool']));
    expect(await ok(`mutation { deletePool(name: "gql_pool") }`)).toEqual({ deletePool: true });
    expect((await api.call('GET', '/api/v1/pools/gql_pool')).status).toBe(404);
  });
});

describe('backfills', () => {
  beforeAll(async () => {
    await api.registerDag(dag('gql_backfill', [{ taskId: 'only' }], { schedule: '@daily', startDate: '2024-01-01T00:00:00Z', catchup: false }));
  });

  it('plans, creates, lists with progress, pauses, unpauses and cancels', async () => {
    const create = `mutation($input: CreateBackfillInput!) { createBackfill(input: $input) {
      dryRun plan { dagId create reprocess { runId } skip { reason } }
      backfill { id dagId state maxActiveRuns reprocessBehavior counts { pending queued running success failed skipped } items { logicalDate status runId runState } } } }`;
    const range = { dagId: 'gql_backfill', fromDate: '2024-03-01T00:00:00Z', toDate: '2024-03-03T00:00:00Z' };
    const dry = await ok(create, { input: { ...range, dryRun: true } });
    expect(dry.createBackfill).toEqual({
      dryRun: true,
      backfill: null,
      plan: { dagId: 'gql_backfill', create: ['2024-03-01T00:00:00.000Z', '2024-03-02T00:00:00.000Z', '2024-03-03T00:00:00.000Z'], reprocess: [], skip: [] },
    });

    const { createBackfill } = await ok(create, { input: { ...range, maxActiveRuns: 1 } });
    expect(createBackfill.dryRun).toBe(false);
    const b = createBackfill.backfill;
    expect(b).toMatchObject({ dagId: 'gql_backfill', state: 'running', maxActiveRuns: 1, reprocessBehavior: 'none' });
    expect(b.counts).toEqual({ pending: 2, queued: 0, running: 1, success: 0, failed: 0, skipped: 0 });
    expect(b.items.map((i: any) => i.status)).toEqual(['started', 'pending', 'pending']);

    // From a list, counts and items are batched across backfills.
    const { backfills } = await ok(`{ backfills(dagId: "gql_backfill") { totalEntries items { id counts { running pending } items { status } } } }`);
    expect(backfills).toEqual({ totalEntries: 1, items: [{ id: b.id, counts: { running: 1, pending: 2 }, items: b.items.map((i: any) => ({ status: i.status })) }] });

    const conflict = await gql(create, { input: range });
    expect(conflict.errors?.[0].extensions).toEqual({ code: 'CONFLICT', statusCode: 409, details: { reason: 'backfill_active' } });

    expect((await ok(`mutation { pauseBackfill(id: ${b.id}) { state isPaused } }`)).pauseBackfill).toEqual({ state: 'paused', isPaused: true });
    expect((await ok(`mutation { unpauseBackfill(id: ${b.id}) { state } }`)).unpauseBackfill.state).toBe('running');
    const canceled = await ok(`mutation { cancelBackfill(id: ${b.id}) { state canceledAt counts { skipped } } }`);
    expect(canceled.cancelBackfill).toMatchObject({ state: 'canceled', counts: { skipped: 2 } });
    expect((await ok(`{ backfill(id: ${b.id}) { state } }`)).backfill.state).toBe('canceled');
  });
});

describe('datasets, SLA misses and workers', () => {
  it('posts and lists dataset events', async () => {
    await api.registerDag(dag('gql_producer', [{ taskId: 'write', outlets: ['s3://gql/orders'] }]));
    const { postDatasetEvent } = await ok(`mutation { postDatasetEvent(input: { uri: "s3://gql/orders", extra: { rows: 7 } }) { id uri extra sourceDagId timestamp } }`);
    expect(postDatasetEvent).toMatchObject({ uri: 's3://gql/orders', extra: { rows: 7 }, sourceDagId: null });
    const { datasets, datasetEvents } = await ok(`{
      datasets { items { uri producers { dagId taskId } consumers lastEventAt } }
      datasetEvents(filter: { uri: "s3://gql/orders", since: "2000-01-01T00:00:00Z" }) { totalEntries items { id extra } } }`);
    expect(datasets.items).toContainEqual({ uri: 's3://gql/orders', producers: [{ dagId: 'gql_producer', taskId: 'write' }], consumers: [], lastEventAt: postDatasetEvent.timestamp });
    expect(datasetEvents).toEqual({ totalEntries: 1, items: [{ id: postDatasetEvent.id, extra: { rows: 7 } }] });
  });

  it('lists SLA misses', async () => {
    await api.registerDag(dag('gql_sla', [{ taskId: 'slow', sla: 'PT1H' }], { schedule: '@daily', startDate: '2024-01-01T00:00:00Z', catchup: false }));
    await api.tick(new Date('2024-01-02T00:00:30Z'));
    await api.tick(new Date('2024-01-02T01:00:01Z'));
    const { slaMisses } = await ok(`{ slaMisses(filter: { dagId: "gql_sla" }) { totalEntries items { dagId runId taskId logicalDate deadline detectedAt deliveries { channel } } } }`);
    expect(slaMisses).toMatchObject({
      totalEntries: 1,
      items: [{ dagId: 'gql_sla', taskId: 'slow', logicalDate: '2024-01-01T00:00:00.000Z', deadline: '2024-01-02T01:00:00.000Z', deliveries: [] }],
    });
  });

  it('lists workers seen on the lease API', async () => {
    const { workers } = await ok(`{ workers(limit: 1000) { totalEntries items { workerId queues capacity runningLeases firstSeen lastSeen } } }`);
    expect(workers.items).toContainEqual(expect.objectContaining({ workerId: 'gql-worker', queues: ['gql_runs'], capacity: 10, runningLeases: 0 }));
    expect(workers.totalEntries).toBe(workers.items.length);
  });
});

describe('errors', () => {
  it('NOT_FOUND with the REST status, no stack trace', async () => {
    const res = await gql(`{ dagRun(dagId: "nope", runId: "x") { runId } pool(name: "default_pool") { name } }`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      data: { dagRun: null, pool: { name: 'default_pool' } },
      errors: [{ message: "DAG run 'nope/x' not found", locations: [{ line: 1, column: 3 }], path: ['dagRun'], extensions: { code: 'NOT_FOUND', statusCode: 404 } }],
    });
  });

  it('BAD_USER_INPUT names each bad field in details, with REST’s paths and messages', async () => {
    const bad = { runId: 'ok', logicalDate: 'yesterday', conf: [1] };
    const res = await gql(`mutation($input: TriggerDagRunInput) { triggerDagRun(dagId: "gql_runs", input: $input) { created } }`, { input: bad });
    expect(res.errors?.[0].extensions).toEqual({
      code: 'BAD_USER_INPUT',
      statusCode: 400,
      details: [
        { path: 'logicalDate', message: 'must be an ISO 8601 date-time with offset' },
        { path: 'conf', message: expect.any(String) },
      ],
    });
    const rest = await api.call('POST', '/api/v1/dags/gql_runs/dagRuns', bad);
    expect(rest.status).toBe(400);
    expect(rest.body.details).toEqual(res.errors?.[0].extensions.details);

    const doc = await gql(`mutation($d: JSON!) { upsertDag(document: $d) { version } }`, {
      d: dag('gql_bad', [{ taskId: 'a', dependsOn: ['nope'] }]),
    });
    expect(doc.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(doc.errors?.[0].extensions.details).toContainEqual(expect.objectContaining({ path: 'tasks[0].dependsOn[0]' }));

    const page = await gql(`{ dags(limit: 5000) { totalEntries } }`);
    expect(page.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', statusCode: 400, details: [{ path: 'limit', message: expect.stringMatching(/1000/) }] });
  });

  it('CONFLICT with the reason in details', async () => {
    const res = await gql(`mutation { deletePool(name: "default_pool") }`);
    expect(res.errors?.[0]).toMatchObject({ path: ['deletePool'], extensions: { code: 'CONFLICT', statusCode: 409, details: { reason: 'default_pool' } } });
  });

  it('keeps the GraphQL layer’s own codes for requests it rejects', async () => {
    const unknown = await gql(`{ dags { items { nope } } }`);
    expect(unknown.status).toBe(400);
    expect(unknown.errors?.[0].extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED', statusCode: 400 });
    const wrongType = await gql(`query($n: Int!) { dags(limit: $n) { totalEntries } }`, { n: 'many' });
    expect(wrongType.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', statusCode: 400 });
    const syntax = await gql(`{ dags { `);
    expect(syntax.errors?.[0].extensions).toEqual({ code: 'GRAPHQL_PARSE_FAILED', statusCode: 400 });
  });

  it('turns anything unexpected into INTERNAL_SERVER_ERROR without leaking it', async () => {
    const spy = jest.spyOn(t.app.get(PoolsService), 'get').mockRejectedValueOnce(new Error('connection to 10.0.0.7 lost: password=hunter2'));
    try {
      const res = await gql(`{ pool(name: "default_pool") { name } }`);
      expect(res.body).toEqual({
        data: { pool: null },
        errors: [{ message: 'internal error', locations: [{ line: 1, column: 3 }], path: ['pool'], extensions: { code: 'INTERNAL_SERVER_ERROR', statusCode: 500 } }],
      });
      expect(JSON.stringify(res.body)).not.toMatch(/hunter2|stack|10\.0\.0\.7/);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('docs/graphql.md', () => {
  type Block = { lang: string; info: string; body: string };
  const blocks: Block[] = [...readFileSync(new URL('../../docs/graphql.md', import.meta.url), 'utf8').matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm)].map(
    (m) => ({ lang: m[1]!, info: m[2]!.trim(), body: m[3]! }),
  );
  const examples = blocks.flatMap((b, i) => {
    if (b.lang !== 'graphql') return [];
    const following = blocks.slice(i + 1, i + 3);
    const variables = following[0]?.info === 'variables' ? JSON.parse(following[0].body) : undefined;
    const response = following.find((f, j) => f.info === 'response' && following.slice(0, j).every((g) => g.info === 'variables'));
    return [{ query: b.body, variables, response: response && JSON.parse(response.body) }];
  });

  it('has examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(10);
  });

  it('every example runs in order, answering as documented', async () => {
    for (const ex of examples) {
      const res = await gql(ex.query, ex.variables);
      if (ex.response) expect({ example: ex.query, body: res.body }).toEqual({ example: ex.query, body: ex.response });
      else expect({ example: ex.query, errors: res.errors }).toEqual({ example: ex.query, errors: undefined });
    }
  });
});
