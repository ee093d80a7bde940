import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiKeysService } from '../../src/auth/api-keys.service.js';
import { registerConsole } from '../../src/console/console-static.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { graphql } from '../support/graphql.js';
import { collect, wsClient } from '../support/ws.js';

/**
 * The API the console is built on, open to every client: whoami, Dag.recentRuns, the stream positions that let a
 * client read a snapshot and then subscribe without a gap, and live log tails (taskLogLines).
 */
const ADMIN = 'weft_test_admin_key_console_api_0123456789';
let t: TestApp;
let base: string;
const keys: Record<string, string> = {};
const as = (role: string) => new Api(() => t.app, { authorization: `Bearer ${keys[role]}` });
const gql = (role: string, query: string, variables?: Record<string, unknown>) => graphql(t.app, query, variables, { authorization: `Bearer ${keys[role]}` });

beforeAll(async () => {
  t = await startTestApp({ WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: ADMIN });
  await t.app.get(ApiKeysService).ensureAdminKey(ADMIN, '/tmp');
  base = await t.listen();
  keys.admin = ADMIN;
  for (const role of ['operator', 'viewer', 'worker']) {
    keys[role] = (await new Api(() => t.app, { authorization: `Bearer ${ADMIN}` }).ok('POST', '/api/v1/apiKeys', { name: `console-api ${role}`, role })).key;
  }
});

afterAll(async () => {
  await t?.close();
});

describe('whoami', () => {
  it('tells every valid key its role and name, over REST and GraphQL, and refuses a missing key', async () => {
    for (const role of ['admin', 'operator', 'viewer', 'worker']) {
      const rest = await as(role).ok('GET', '/api/v1/whoami');
      expect(rest).toEqual(expect.objectContaining({ authEnabled: true, role, prefix: keys[role]!.slice(0, 12) }));
      const { data, errors } = await gql(role, 'query { whoami { authEnabled role name prefix keyId } }');
      expect(errors).toBeUndefined();
      expect(data.whoami).toEqual({ authEnabled: true, role, name: rest.name, prefix: rest.prefix, keyId: rest.keyId });
    }
    expect((await new Api(() => t.app).call('GET', '/api/v1/whoami')).status).toBe(401);
  });

  it('says authentication is off (with every right) when WEFT_AUTH=off', async () => {
    const open = await startTestApp({ WEFT_AUTH: 'off' });
    try {
      expect(await new Api(open.app).ok('GET', '/api/v1/whoami')).toEqual({ authEnabled: false, role: 'admin', keyId: null, name: null, prefix: null });
    } finally {
      await open.close();
    }
  });
});

describe('Dag.recentRuns', () => {
  it('lists the newest runs of each DAG of a page, newest first, in one batch', async () => {
    const admin = as('admin');
    for (const id of ['recent_a', 'recent_b']) await admin.registerDag(dag(id, [{ taskId: 't', type: 'noop' }]));
    for (let d = 1; d <= 4; d++) await admin.trigger('recent_a', { runId: `a${d}`, logicalDate: `2024-01-0${d}T00:00:00Z` });
    const { data, errors } = await gql('viewer', 'query { dags(filter: { dagIdPrefix: "recent_" }) { items { dagId recentRuns(limit: 3) { runId state } } } }');
    expect(errors).toBeUndefined();
    expect(data.dags.items.map((d: any) => [d.dagId, d.recentRuns.map((r: any) => r.runId)])).toEqual([
      ['recent_a', ['a4', 'a3', 'a2']],
      ['recent_b', []],
    ]);
    const bad = await gql('viewer', 'query { dags { items { recentRuns(limit: 26) { runId } } } }');
    expect(bad.errors?.[0].extensions).toEqual(expect.objectContaining({ code: 'BAD_USER_INPUT', statusCode: 400 }));
  });
});

describe('stream positions', () => {
  it('subscribing after a position read before the snapshot delivers exactly the changes made after it', async () => {
    const admin = as('admin');
    await admin.registerDag(dag('pos_dag', [{ taskId: 'a', type: 'noop' }, { taskId: 'b', type: 'noop', dependsOn: ['a'] }]));
    await admin.trigger('pos_dag', { runId: 'p1', logicalDate: '2024-02-01T00:00:00Z' });
    const client = wsClient(base, keys.viewer);
    // A subscriber (any) makes the service number events; wait until the run's creation is numbered.
    const warm = collect(client, 'subscription { dagRunStateChanged(dagId: "pos_dag", afterSequence: 0) { sequence runId } }');
    await warm.until((items) => items.length >= 1, 'the creation event');
    const pos = (await gql('viewer', 'query { dag(dagId: "pos_dag") { runEventSequence } dagRun(dagId: "pos_dag", runId: "p1") { taskEventSequence } }')).data;
    expect(pos.dag.runEventSequence).toBeGreaterThanOrEqual(1);
    const tis = collect(client, 'subscription($after: Int) { taskInstanceStateChanged(dagId: "pos_dag", runId: "p1", afterSequence: $after) { sequence taskId state } }', { after: pos.dagRun.taskEventSequence });
    await admin.drain('pos_dag');
    const events = await tis.until((items) => items.some((i: any) => i.taskInstanceStateChanged.taskId === 'b' && i.taskInstanceStateChanged.state === 'success'), 'b to succeed');
    const seqs = events.map((e: any) => e.taskInstanceStateChanged.sequence);
    expect(seqs[0]).toBe(pos.dagRun.taskEventSequence + 1);
    expect(seqs).toEqual(seqs.map((_: number, i: number) => seqs[0] + i));
    const { data } = await gql('viewer', 'query { dag(dagId: "pos_dag") { runEventSequence } }');
    expect(data.dag.runEventSequence).toBeGreaterThan(pos.dag.runEventSequence);
    await tis.stop();
    await warm.stop();
    await client.dispose();
  });

  it('is 0 for a stream with no event yet', async () => {
    await as('admin').registerDag(dag('pos_empty', [{ taskId: 'a', type: 'noop' }]));
    const { data } = await gql('viewer', 'query { dag(dagId: "pos_empty") { runEventSequence } }');
    expect(data.dag.runEventSequence).toBe(0);
  });
});

describe('the rendered task', () => {
  const RENDERED = `query($r: String!, $t: String!) { renderedTask(dagId: "render_dag", runId: $r, taskId: $t) {
    dagId runId taskId mapIndex expand taskType tryNumber task error upstreamXcom params conf } }`;
  const url = (runId: string, taskId: string) => `/api/v1/dags/render_dag/dagRuns/${runId}/taskInstances/${taskId}/rendered`;

  it('answers what the lease carries, a template error as a message (not a 500), to a viewer, over REST and GraphQL', async () => {
    const admin = as('admin');
    const viewer = as('viewer');
    await admin.registerDag(
      dag('render_dag', [
        { taskId: 'extract', type: 'custom.extract' },
        { taskId: 'load', type: 'shell', dependsOn: ['extract'], xcomPull: ['extract'], command: 'load --day {{ ds }} --who {{ dag_run.conf.who }} --rows {{ xcom.extract.return_value }}' },
      ]),
    );
    await admin.trigger('render_dag', { runId: 'r1', logicalDate: '2024-03-01T00:00:00Z', conf: { who: "it's me" } });

    // Before extract has published its XCom, load's template names a value that is not there: a clear message.
    const early = await viewer.ok('GET', url('r1', 'load'));
    expect(early).toEqual(expect.objectContaining({ dagId: 'render_dag', runId: 'r1', taskId: 'load', taskType: 'shell', tryNumber: 0, task: null, conf: { who: "it's me" } }));
    expect(early.error).toMatch(/^rendering the task failed: unknown variable 'xcom\.extract'/);
    const earlyGql = await gql('viewer', RENDERED, { r: 'r1', t: 'load' });
    expect(earlyGql.errors).toBeUndefined();
    expect(earlyGql.data.renderedTask).toEqual({ ...early, expand: null });

    const [extract] = await admin.lease('render-worker', { queues: ['render_dag'] });
    expect((await admin.complete(extract.leaseId, { status: 'success', xcom: { return_value: 42 } })).status).toBe(200);
    const rendered = await viewer.ok('GET', url('r1', 'load'));
    expect(rendered.error).toBeNull();
    expect(rendered.upstreamXcom).toEqual({ extract: { return_value: 42 } });
    expect(rendered.task.command).toContain('load --day 2024-03-01 --who ');
    expect(rendered.task.command).toContain('--rows 42');
    expect(rendered.task).not.toHaveProperty('dependsOn');
    const viaGql = await gql('viewer', RENDERED, { r: 'r1', t: 'load' });
    expect(viaGql.errors).toBeUndefined();
    expect(viaGql.data.renderedTask).toEqual({ ...rendered, expand: null });

    // The same code path as the lease: the worker receives exactly what the view showed.
    const [load] = await admin.lease('render-worker', { queues: ['render_dag'] });
    expect(load.taskId).toBe('load');
    expect(load.task).toEqual(rendered.task);
    expect(load.upstreamXcom).toEqual(rendered.upstreamXcom);
    expect((await viewer.ok('GET', url('r1', 'load'))).tryNumber).toBe(1);
  });

  it('renders an instance of a mapped task with its own expand values and map index', async () => {
    const admin = as('admin');
    await admin.registerDag(dag('render_map', [{ taskId: 'fan', type: 'shell', command: 'sync {{ expand.region }} {{ map_index }}', expand: { region: ['eu', 'us'] } }]));
    await admin.trigger('render_map', { runId: 'm1' });
    const one = await as('viewer').ok('GET', '/api/v1/dags/render_map/dagRuns/m1/taskInstances/fan/1/rendered');
    expect(one).toEqual(expect.objectContaining({ mapIndex: 1, expand: { region: 'us' }, error: null, task: { command: 'sync us 1' } }));
    const { data, errors } = await gql('viewer', 'query { renderedTask(dagId: "render_map", runId: "m1", taskId: "fan", mapIndex: 0) { mapIndex expand task error } }');
    expect(errors).toBeUndefined();
    expect(data.renderedTask).toEqual({ mapIndex: 0, expand: { region: 'eu' }, task: { command: 'sync eu 0' }, error: null });
    const leases = await admin.lease('render-map-worker', { queues: ['render_map'] });
    expect(leases.find((l) => l.mapIndex === 1).task).toEqual(one.task);
  });

  it('is a 404 for a run or task that does not exist, and needs a key that may read', async () => {
    expect((await as('viewer').call('GET', url('nope', 'load'))).status).toBe(404);
    expect((await as('viewer').call('GET', url('r1', 'nope'))).status).toBe(404);
    const missing = await gql('viewer', RENDERED, { r: 'r1', t: 'nope' });
    expect(missing.errors?.[0].extensions).toEqual(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect((await new Api(() => t.app).call('GET', url('r1', 'load'))).status).toBe(401);
  });
});

describe("workers' leases", () => {
  it('lists the task instances each worker holds now, with try, since when and expiry, over REST and GraphQL', async () => {
    const admin = as('admin');
    await admin.registerDag(dag('held_dag', [{ taskId: 'a', type: 'noop' }, { taskId: 'b', type: 'noop' }]));
    await admin.trigger('held_dag', { runId: 'h1' });
    const leases = await admin.lease('holder-worker', { queues: ['held_dag'] });
    expect(leases.map((l) => l.taskId).sort()).toEqual(['a', 'b']);

    const { items } = await as('viewer').ok('GET', '/api/v1/workers?limit=100');
    const holder = items.find((w: any) => w.workerId === 'holder-worker');
    expect(holder.runningLeases).toBe(2);
    expect(holder.leases.map((l: any) => [l.dagId, l.runId, l.taskId, l.mapIndex, l.tryNumber, l.queue]).sort()).toEqual([
      ['held_dag', 'h1', 'a', -1, 1, 'held_dag'],
      ['held_dag', 'h1', 'b', -1, 1, 'held_dag'],
    ]);
    for (const l of holder.leases) {
      expect(l).not.toHaveProperty('leaseId');
      expect(Date.parse(l.expiresAt)).toBeGreaterThan(Date.parse(l.acquiredAt));
      expect(l.cancelRequested).toBe(false);
    }
    const { data, errors } = await gql('viewer', `query { workers(limit: 100) { items { workerId runningLeases
      leases { dagId runId taskId mapIndex tryNumber queue acquiredAt heartbeatAt expiresAt deadlineAt cancelRequested } } } }`);
    expect(errors).toBeUndefined();
    expect(data.workers.items.find((w: any) => w.workerId === 'holder-worker').leases).toEqual(holder.leases);

    // A completed lease is no longer held.
    expect((await admin.complete(leases[0].leaseId, { status: 'success' })).status).toBe(200);
    const after = (await as('viewer').ok('GET', '/api/v1/workers?limit=100')).items.find((w: any) => w.workerId === 'holder-worker');
    expect(after.leases.map((l: any) => l.taskId)).toEqual([leases[1].taskId]);
  });
});

describe('taskLogLines', () => {
  const LOGS = `subscription($try: Int, $after: String) { taskLogLines(dagId: "log_dag", runId: "l1", taskId: "talk", tryNumber: $try, afterId: $after) {
    lastId lines { id tryNumber line stream } } }`;
  const lines = (items: any[]) => items.flatMap((i) => i.taskLogLines.lines.map((l: any) => l.line));

  it('sends the lines written so far, then each append as it commits, and resumes after a line id', async () => {
    const admin = as('admin');
    await admin.registerDag(dag('log_dag', [{ taskId: 'talk', type: 'custom.talk' }]));
    await admin.trigger('log_dag', { runId: 'l1' });
    const [lease] = await admin.lease('log-worker', { queues: ['log_dag'] });
    const append = (...text: string[]) => admin.ok('POST', `/api/v1/leases/${lease.leaseId}/logs`, { lines: text.map((line) => ({ line, stream: 'stdout' })) });
    await append('one', 'two');

    const client = wsClient(base, keys.viewer);
    const tail = collect(client, LOGS, { try: 1 });
    await tail.until((items) => lines(items).length === 2, 'the lines so far');
    await append('three');
    await append('four');
    const all = await tail.until((items) => lines(items).length === 4, 'the live lines');
    expect(lines(all)).toEqual(['one', 'two', 'three', 'four']);
    const ids = all.flatMap((i: any) => i.taskLogLines.lines.map((l: any) => Number(l.id)));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(all.at(-1).taskLogLines.lastId).toBe(String(ids.at(-1)));
    await tail.stop();

    // A client that saw up to "two" resumes after it and gets the rest only.
    const resumed = collect(client, LOGS, { try: 1, after: String(ids[1]) });
    expect(lines(await resumed.until((items) => lines(items).length === 2, 'the rest'))).toEqual(['three', 'four']);
    await resumed.stop();
    await client.dispose();
  });

  it('tails one instance of a mapped task by its mapIndex', async () => {
    const admin = as('admin');
    await admin.registerDag(dag('log_mapped', [{ taskId: 'each', type: 'custom.talk', expand: { part: ['a', 'b'] } }]));
    await admin.trigger('log_mapped', { runId: 'm1' });
    const leases = await admin.lease('log-mapped-worker', { queues: ['log_mapped'], capacity: 2, waitSeconds: 5 });
    expect(leases.map((l: any) => l.mapIndex).sort()).toEqual([0, 1]);
    for (const l of leases) await admin.ok('POST', `/api/v1/leases/${l.leaseId}/logs`, { lines: [{ line: `part ${l.mapIndex}`, stream: 'stdout' }] });
    const client = wsClient(base, keys.viewer);
    const MAPPED = `subscription($m: Int) { taskLogLines(dagId: "log_mapped", runId: "m1", taskId: "each", mapIndex: $m) { lastId lines { line } } }`;
    for (const m of [1, 0]) {
      const tail = collect(client, MAPPED, { m });
      expect(lines(await tail.until((items) => lines(items).length >= 1, `the line of instance ${m}`))).toEqual([`part ${m}`]);
      await tail.stop();
    }
    // Without a map index it is the unmapped instance (−1), which a mapped task no longer has once expanded.
    const unmapped = collect(client, 'subscription { taskLogLines(dagId: "log_mapped", runId: "m1", taskId: "each") { lastId } }');
    await unmapped.done;
    expect(JSON.stringify(unmapped.failure)).toContain('NOT_FOUND');
    const bad = collect(client, 'subscription { taskLogLines(dagId: "log_mapped", runId: "m1", taskId: "each", mapIndex: -2) { lastId } }');
    await bad.done;
    expect(JSON.stringify(bad.failure)).toContain('mapIndex');
    await client.dispose();
  });

  it('setXcomEntry and PUT .../{mapIndex}/xcomEntries/{key} set the XCom of one mapped instance', async () => {
    const admin = as('admin');
    await admin.registerDag(dag('xcom_mapped', [{ taskId: 'each', type: 'custom.talk', expand: { n: [10, 20] } }]));
    await admin.trigger('xcom_mapped', { runId: 'm1' });
    const set = await gql('operator', 'mutation { setXcomEntry(dagId: "xcom_mapped", runId: "m1", taskId: "each", mapIndex: 0, key: "fixed", value: 7) { key value } }');
    expect(set.errors).toBeUndefined();
    expect((await admin.ok('GET', '/api/v1/dags/xcom_mapped/dagRuns/m1/taskInstances/each/0/xcomEntries/fixed')).value).toBe(7);
    const put = await admin.ok('PUT', '/api/v1/dags/xcom_mapped/dagRuns/m1/taskInstances/each/1/xcomEntries/fixed', { value: 8 });
    expect(put).toMatchObject({ key: 'fixed', value: 8 });
    expect((await admin.ok('GET', '/api/v1/dags/xcom_mapped/dagRuns/m1/taskInstances/each/0/xcomEntries/fixed')).value).toBe(7);
    // Without a map index it is the instance −1, which the expanded task no longer has.
    const plain = await gql('operator', 'mutation { setXcomEntry(dagId: "xcom_mapped", runId: "m1", taskId: "each", key: "fixed", value: 9) { key } }');
    expect(JSON.stringify(plain.errors)).toContain('NOT_FOUND');
  });

  it('needs a readable target and a key that may read', async () => {
    const client = wsClient(base, keys.viewer);
    const missing = collect(client, 'subscription { taskLogLines(dagId: "log_dag", runId: "nope", taskId: "talk") { lastId } }');
    await missing.done;
    expect(JSON.stringify(missing.failure)).toContain('NOT_FOUND');
    const bad = collect(client, 'subscription { taskLogLines(dagId: "log_dag", runId: "l1", taskId: "talk", afterId: "x1") { lastId } }');
    await bad.done;
    expect(JSON.stringify(bad.failure)).toContain('afterId');
    await client.dispose();
    const workerClient = wsClient(base, keys.worker);
    const refused = collect(workerClient, 'subscription { taskLogLines(dagId: "log_dag", runId: "l1", taskId: "talk") { lastId } }');
    await refused.done;
    expect(JSON.stringify(refused.failure)).toContain('FORBIDDEN');
    await workerClient.dispose();
  });
});

describe('the console files', () => {
  it('serves the page at / with its security headers, assets under /assets/ (precompressed when asked), and JSON 404s elsewhere', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-console-dist-'));
    try {
      const { mkdir } = await import('node:fs/promises');
      await mkdir(join(dir, 'assets'));
      await writeFile(join(dir, 'index.html'), '<!doctype html><title>Weft</title><script type="module" src="/assets/app-1.js"></script>');
      await writeFile(join(dir, 'assets', 'app-1.js'), 'console.log(1)');
      const { gzipSync } = await import('node:zlib');
      await writeFile(join(dir, 'assets', 'app-1.js.gz'), gzipSync('console.log(1)'));
      const { default: Fastify } = await import('fastify');
      const app = Fastify();
      await registerConsole(app, dir);
      const page = await app.inject({ method: 'GET', url: '/' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.headers['content-security-policy']).toContain("default-src 'self'");
      expect(page.headers['cache-control']).toBe('no-cache');
      const asset = await app.inject({ method: 'GET', url: '/assets/app-1.js', headers: { 'accept-encoding': 'gzip' } });
      expect([asset.statusCode, asset.headers['content-encoding'], asset.headers['cache-control']]).toEqual([200, 'gzip', 'public, max-age=31536000, immutable']);
      expect((await app.inject({ method: 'GET', url: '/assets/missing.js' })).statusCode).toBe(404);
      await app.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // The service itself: `/` is the console (or a 503 saying how to build it), unknown paths the API's JSON 404.
    const root = await t.app.inject({ method: 'GET', url: '/' });
    expect([200, 503]).toContain(root.statusCode);
    const unknown = await t.app.inject({ method: 'GET', url: '/no/such/page' });
    expect([unknown.statusCode, unknown.json().statusCode]).toEqual([404, 404]);
  });
});
