import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import pg from 'pg';
import { startTestApp, type TestApp } from '../support/app.js';
import { dagDoc } from '../support/fixtures.js';
import { graphqlOk } from '../support/graphql.js';
import { SchedulerService } from '../../src/scheduler/scheduler.service.js';

let t: TestApp;
let db: pg.Client;

beforeAll(async () => {
  t = await startTestApp();
  db = new pg.Client({ connectionString: t.db.url });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await t.close();
});

const req = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
  t.app.inject({ method, url, payload: payload as object });

async function tableCounts(): Promise<Record<string, number>> {
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM dags)::int AS dags, (SELECT count(*) FROM dag_versions)::int AS versions`,
  );
  return rows[0];
}

describe('DAG registry over REST', () => {
  it('registers a DAG (201) and answers the same content with 200 and no new version', async () => {
    const first = await req('POST', '/api/v1/dags', dagDoc());
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ version: 1, created: true, changed: true, dag: { dagId: 'daily_etl', latestVersion: 1 } });

    // Same content, keys in another order: no new version.
    const reordered = Object.fromEntries(Object.entries(dagDoc()).reverse());
    const again = await req('POST', '/api/v1/dags', reordered);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ version: 1, created: false, changed: false });
  });

  it('creates a new version when the content changes and keeps the old one readable', async () => {
    const res = await req('POST', '/api/v1/dags', dagDoc({ description: 'Daily ETL, v2' }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ version: 2, changed: true });

    const versions = await req('GET', '/api/v1/dags/daily_etl/versions');
    expect(versions.json().totalEntries).toBe(2);
    expect(versions.json().items.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    const v1 = await req('GET', '/api/v1/dags/daily_etl/versions/1');
    expect(v1.json().document.description).toBe('Daily ETL');

    const dag = await req('GET', '/api/v1/dags/daily_etl');
    expect(dag.json()).toMatchObject({ dagId: 'daily_etl', latestVersion: 2, owner: 'data-eng', timezone: 'Europe/Amsterdam' });
    expect(dag.json().document.tasks).toHaveLength(3);
  });

  it('lists with pagination and filters', async () => {
    for (const id of ['a_dag', 'b_dag', 'c_dag']) {
      expect((await req('POST', '/api/v1/dags', dagDoc({ dagId: id, tags: ['batch'] }))).statusCode).toBe(201);
    }
    const page = await req('GET', '/api/v1/dags?limit=2&offset=1');
    expect(page.statusCode).toBe(200);
    expect(page.json()).toMatchObject({ totalEntries: 4, limit: 2, offset: 1 });
    expect(page.json().items.map((d: { dagId: string }) => d.dagId)).toEqual(['b_dag', 'c_dag']);

    const tagged = await req('GET', '/api/v1/dags?tag=batch');
    expect(tagged.json().totalEntries).toBe(3);

    const bad = await req('GET', '/api/v1/dags?limit=0');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details).toEqual([expect.objectContaining({ path: 'limit' })]);
  });

  it('pauses and unpauses', async () => {
    const paused = await req('PATCH', '/api/v1/dags/a_dag', { isPaused: true });
    expect(paused.statusCode).toBe(200);
    expect(paused.json().isPaused).toBe(true);
    expect((await req('GET', '/api/v1/dags?paused=true')).json().items.map((d: { dagId: string }) => d.dagId)).toEqual(['a_dag']);
    expect((await req('PATCH', '/api/v1/dags/a_dag', { isPaused: false })).json().isPaused).toBe(false);

    const badBody = await req('PATCH', '/api/v1/dags/a_dag', { isPaused: 'yes' });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json().message).toMatch(/isPaused/);
    expect((await req('PATCH', '/api/v1/dags/nope', { isPaused: true })).statusCode).toBe(404);
  });

  it('creates a DAG paused with isPausedUponCreation, which only creation reads and the content hash leaves out', async () => {
    const created = await req('POST', '/api/v1/dags', dagDoc({ dagId: 'born_paused', isPausedUponCreation: true }));
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ created: true, version: 1, dag: { isPaused: true } });
    // Catch-up since 2024 is due at once, yet the scheduler creates nothing for a paused DAG: no run before a PATCH.
    await t.app.get(SchedulerService).tick(new Date('2024-03-01T00:00:00Z'));
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM dag_runs WHERE dag_id = 'born_paused'`);
    expect(rows[0].n).toBe(0);
    // Not stored in the version, not hashed: the same content without it (or with false) is no new version.
    expect((await req('GET', '/api/v1/dags/born_paused')).json().document).not.toHaveProperty('isPausedUponCreation');
    for (const flag of [undefined, false]) {
      const again = await req('POST', '/api/v1/dags', dagDoc({ dagId: 'born_paused', isPausedUponCreation: flag }));
      expect(again.json()).toMatchObject({ created: false, changed: false, version: 1, dag: { isPaused: true } });
    }
    // An existing DAG keeps its pause state whatever the document says.
    expect((await req('PATCH', '/api/v1/dags/born_paused', { isPaused: false })).json().isPaused).toBe(false);
    const later = await req('POST', '/api/v1/dags', dagDoc({ dagId: 'born_paused', isPausedUponCreation: true, description: 'v2' }));
    expect(later.json()).toMatchObject({ created: false, changed: true, version: 2, dag: { isPaused: false } });
    // A new DAG without it is active, as before.
    expect((await req('POST', '/api/v1/dags', dagDoc({ dagId: 'born_active' }))).json().dag.isPaused).toBe(false);
    // GraphQL registers through the same service.
    const gql = await graphqlOk(t.app, `mutation($doc: JSON!) { upsertDag(document: $doc) { created dag { isPaused } } }`, {
      doc: dagDoc({ dagId: 'born_paused_gql', isPausedUponCreation: true }),
    });
    expect(gql.upsertDag).toEqual({ created: true, dag: { isPaused: true } });
    const schema = (await req('GET', '/api/v1/schemas/dag.json')).json();
    expect(schema.properties.isPausedUponCreation).toMatchObject({ type: 'boolean' });
    expect((await req('POST', '/api/v1/dags', dagDoc({ dagId: 'bad_flag', isPausedUponCreation: 'yes' }))).statusCode).toBe(400);
  });

  it('deletes a DAG with its versions', async () => {
    expect((await req('DELETE', '/api/v1/dags/c_dag')).statusCode).toBe(204);
    expect((await req('GET', '/api/v1/dags/c_dag')).statusCode).toBe(404);
    expect((await req('DELETE', '/api/v1/dags/c_dag')).statusCode).toBe(404);
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM dag_versions WHERE dag_id = 'c_dag'`);
    expect(rows[0].n).toBe(0);
  });

  it('serialises concurrent registrations of one DAG into one version per distinct content', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => dagDoc({ dagId: 'raced', description: i % 2 ? 'odd' : 'even' }));
    const results = await Promise.all(bodies.map((b) => req('POST', '/api/v1/dags', b)));
    expect(results.every((r) => r.statusCode === 200 || r.statusCode === 201)).toBe(true);
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(1);
    const { rows } = await db.query(`SELECT version FROM dag_versions WHERE dag_id = 'raced' ORDER BY version`);
    // Versions are gap-free and numbered by the lock order; the count equals the number of content changes seen.
    expect(rows.map((r) => r.version)).toEqual(rows.map((_, i) => i + 1));
    const changed = results.filter((r) => r.json().changed).length;
    expect(rows).toHaveLength(changed);
  });

  it('concurrent registrations of one new content of an existing DAG add one version', async () => {
    // The later registrations wait for the first one's lock; what they compare against must be the version it
    // committed, not the one they read before waiting (which made each of them add a version of the same content).
    expect((await req('POST', '/api/v1/dags', dagDoc({ dagId: 'raced_same' }))).statusCode).toBe(201);
    for (const round of [1, 2, 3]) {
      const body = dagDoc({ dagId: 'raced_same', description: `round ${round}` });
      const results = await Promise.all(Array.from({ length: 8 }, () => req('POST', '/api/v1/dags', body)));
      expect(results.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
      expect(results.filter((r) => r.json().changed)).toHaveLength(1);
      const { rows } = await db.query(`SELECT version FROM dag_versions WHERE dag_id = 'raced_same' ORDER BY version`);
      expect(rows.map((r) => r.version)).toEqual(Array.from({ length: round + 1 }, (_, i) => i + 1));
    }
  });

  it('serves the DAG JSON Schema', async () => {
    const res = await req('GET', '/api/v1/schemas/dag.json');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ $id: expect.stringContaining('dag.json') });
  });
});

describe('bad DAG documents: 4xx naming the field, nothing written', () => {
  const cases: [string, Record<string, unknown>, RegExp, string][] = [
    ['a cycle', { tasks: [
      { taskId: 'a', type: 'noop', dependsOn: ['c'] },
      { taskId: 'b', type: 'noop', dependsOn: ['a'] },
      { taskId: 'c', type: 'noop', dependsOn: ['b'] },
    ] }, /cycle.*a.*b.*c/, 'tasks'],
    ['a duplicate task id', { tasks: [{ taskId: 'a', type: 'noop' }, { taskId: 'a', type: 'noop' }] }, /duplicate.*'?a'?/, 'tasks[1].taskId'],
    ['an unknown upstream', { tasks: [{ taskId: 'a', type: 'noop', dependsOn: ['ghost'] }] }, /ghost/, 'tasks[0].dependsOn[0]'],
    ['a bad cron', { schedule: '61 * * * *' }, /61 \* \* \* \*/, 'schedule'],
    ['an unknown timezone', { timezone: 'Mars/Olympus' }, /Mars\/Olympus/, 'timezone'],
    ['an unknown trigger rule', { tasks: [{ taskId: 'a', type: 'noop', triggerRule: 'most_success' }] }, /triggerRule|most_success/, 'tasks[0].triggerRule'],
    ['negative retries', { defaultArgs: { retries: -1 } }, /retries|>=|greater/, 'defaultArgs.retries'],
    ['an id outside the pattern', { dagId: 'bad id!' }, /dagId|pattern|[Ii]nvalid/, 'dagId'],
    // '.' and '..' are URL dot-segments that clients remove from a path: such an id could never be addressed.
    ['a dagId made only of dots', { dagId: '..' }, /^dagId: must not be made only of dots: "\." and "\.\." are removed from URL paths/, 'dagId'],
    ['a taskId made only of dots', { tasks: [{ taskId: '.', type: 'noop' }] }, /tasks\[0\]\.taskId: must not be made only of dots/, 'tasks[0].taskId'],
    ['a group id made only of dots', { groups: [{ groupId: '...' }] }, /groups\[0\]\.groupId: must not be made only of dots/, 'groups[0].groupId'],
    ['a shell task without a command', { tasks: [{ taskId: 'a', type: 'shell' }] }, /command/, 'tasks[0]'],
    // Templates that can never render, whatever the run: refused now rather than failing every attempt.
    ['a template syntax error', { tasks: [{ taskId: 'a', type: 'shell', command: 'echo {{ ds ' }] }, /syntax error.*not closed.*'echo \{\{ ds '/, 'tasks[0].command'],
    ['an unknown template filter', { tasks: [{ taskId: 'a', type: 'http', request: { method: 'POST', url: 'http://127.0.0.1:9/x', body: { d: '{{ ds | add_day: 1 }}' } } }] }, /unknown filter 'add_day'/, 'tasks[0].request.body.d'],
    ['an unknown template tag', { tasks: [{ taskId: 'a', type: 'sql', sql: "{% include 'q.sql' %}" }] }, /unknown tag 'include'/, 'tasks[0].sql'],
    ['a branch choice that does not parse', { tasks: [{ taskId: 'a', type: 'branch', choose: '{% if %}b' }, { taskId: 'b', type: 'noop', dependsOn: ['a'] }] }, /syntax error/, 'tasks[0].choose'],
    ['an http header name that is not a token', { tasks: [{ taskId: 'a', type: 'http', request: { method: 'GET', url: 'http://127.0.0.1:9/x', headers: { 'X-A\r\nX-B': '1' } } }] }, /HTTP token/, 'tasks[0].request.headers'],
    ['an http header value with a line break', { tasks: [{ taskId: 'a', type: 'http', request: { method: 'GET', url: 'http://127.0.0.1:9/x', headers: { 'X-A': 'a\r\nX-B: b' } } }] }, /line break/, 'tasks[0].request.headers["X-A"]'],
    ['a shell env name with "="', { tasks: [{ taskId: 'a', type: 'shell', command: 'env', env: { 'A=B': 'x' } }] }, /must not be empty or contain "="/, 'tasks[0].env["A=B"]'],
  ];

  it.each(cases)('rejects %s', async (_name, override, message, path) => {
    const before = await tableCounts();
    const res = await req('POST', '/api/v1/dags', dagDoc({ dagId: 'rejected', ...override }));
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(body.message).toMatch(message);
    expect(body.details.map((d: { path: string }) => d.path).join(' ')).toContain(path);
    expect(await tableCounts()).toEqual(before);
  });

  it('refuses a template that cannot parse through GraphQL upsertDag too (BAD_USER_INPUT, nothing written)', async () => {
    const before = await tableCounts();
    const res = await t.app.inject({
      method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' },
      payload: { query: 'mutation($d: JSON!) { upsertDag(document: $d) { created } }', variables: { d: dagDoc({ dagId: 'rejected_gql', tasks: [{ taskId: 'a', type: 'shell', command: 'echo {{ ds | nosuch }}' }] }) } },
    });
    const [error] = res.json().errors;
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.message).toBe("tasks[0].command: unknown filter 'nosuch' in template 'echo {{ ds | nosuch }}'");
    expect(await tableCounts()).toEqual(before);
  });

  it('refuses ids made only of dots elsewhere too (run ids, pool names, XCom keys), naming the field', async () => {
    const before = await tableCounts();
    const run = await req('POST', '/api/v1/dags/daily_etl/dagRuns', { runId: '..' });
    expect(run.statusCode).toBe(400);
    expect(run.json().details).toEqual([{ path: 'runId', message: expect.stringContaining('must not be made only of dots') }]);
    const pool = await req('POST', '/api/v1/pools', { name: '.', slots: 1 });
    expect(pool.statusCode).toBe(400);
    expect(pool.json().details).toEqual([{ path: 'name', message: expect.stringContaining('must not be made only of dots') }]);
    const complete = await req('POST', '/api/v1/leases/00000000-0000-4000-8000-000000000000/complete', { status: 'success', xcom: { '..': 1 } });
    expect(complete.statusCode).toBe(400);
    expect(complete.json().details).toEqual([{ path: 'xcom[".."]', message: expect.stringContaining('must not be made only of dots') }]);
    const gql = await t.app.inject({
      method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' },
      payload: { query: 'mutation { triggerDagRun(dagId: "daily_etl", input: { runId: "." }) { created } }' },
    });
    expect(gql.json().errors?.[0]).toMatchObject({ message: expect.stringMatching(/^runId: must not be made only of dots/), extensions: { code: 'BAD_USER_INPUT' } });
    expect((await db.query(`SELECT count(*)::int AS n FROM dag_runs WHERE run_id IN ('.', '..')`)).rows[0].n).toBe(0);
    expect((await db.query(`SELECT count(*)::int AS n FROM pools WHERE name = '.'`)).rows[0].n).toBe(0);
    expect(await tableCounts()).toEqual(before);
  });

  let listening: Promise<string> | undefined;
  // A client resolves '..' away before sending (inject() does too); a raw request, or one spelled %2E%2E, reaches the
  // router with the dots, and each id path parameter refuses them rather than naming nothing or something else.
  it.each([
    ['GET', '/api/v1/dags/..', 'dagId'],
    ['GET', '/api/v1/dags/%2E%2E', 'dagId'],
    ['GET', '/api/v1/dags/daily_etl/dagRuns/.', 'runId'],
    ['GET', '/api/v1/dags/daily_etl/dagRuns/r/taskInstances/..', 'taskId'],
    ['GET', '/api/v1/dags/daily_etl/dagRuns/r/taskInstances/t/xcomEntries/..', 'key'],
    ['GET', '/api/v1/pools/...', 'name'],
    ['POST', '/api/v1/workers/../lease', 'workerId'],
  ])('refuses %s %s with a 400 naming %s', async (method, path, param) => {
    listening ??= t.listen();
    const base = await listening;
    const res = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const body = method === 'POST' ? JSON.stringify({ queues: ['default'] }) : undefined;
      const r = http.request(base + '/', { method, path, headers: body ? { 'content-type': 'application/json' } : {} }, (msg) => {
        let text = '';
        msg.on('data', (c: Buffer) => (text += c.toString()));
        msg.on('end', () => resolve({ status: msg.statusCode!, body: JSON.parse(text) }));
      });
      r.on('error', reject);
      r.end(body);
    });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ path: param, message: expect.stringContaining('must not be made only of dots') }]);
  });

  it('rejects a document over the size limit with a 4xx and writes nothing', async () => {
    const before = await tableCounts();
    const huge = dagDoc({ dagId: 'huge', description: 'x'.repeat(1_100_000) });
    const res = await req('POST', '/api/v1/dags', huge);
    expect([400, 413]).toContain(res.statusCode);
    expect(res.json().message).toMatch(/size|large|limit/i);
    expect(await tableCounts()).toEqual(before);
  });

  it('answers malformed JSON with 400, not 500', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/dags', headers: { 'content-type': 'application/json' }, payload: '{"dagId": ' });
    expect(res.statusCode).toBe(400);
    expect(res.json().statusCode).toBe(400);
  });

  it('rejects an update that breaks the DAG and keeps the previous version', async () => {
    const res = await req('POST', '/api/v1/dags', dagDoc({ tasks: [{ taskId: 'x', type: 'noop', dependsOn: ['x'] }] }));
    expect(res.statusCode).toBe(400);
    const dag = await req('GET', '/api/v1/dags/daily_etl');
    expect(dag.json().latestVersion).toBe(2);
  });
});

describe('health', () => {
  it('is live and ready with every migration applied', async () => {
    expect((await req('GET', '/health')).json()).toEqual({ status: 'ok' });
    const ready = await req('GET', '/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok', database: 'ok', pendingMigrations: [] });
  });

  it('answers unknown routes with the error shape', async () => {
    const res = await req('GET', '/api/v1/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });
});
