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
