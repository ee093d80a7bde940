import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sample } from '../support/metrics.js';
import { freePort, OwnPostgres } from '../support/own-postgres.js';
import { waitFor } from '../support/wait.js';
import { jsonCaller } from '../support/http-json.js';

/**
 * PostgreSQL crashes under `weft start` (a real process: API, scheduler and built-in worker) while its tasks are
 * finishing: their completions and log lines meet 503s for as long as the database is down. The worker must keep
 * sending them (and heartbeating) until they are accepted, so that no task runs twice and the runs finish promptly
 * once the database is back, not a lease TTL later.
 */
const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));
const ADMIN = 'outage-e2e-admin-key-0123456789';
const TTL_SEC = 30;
const PARALLEL = 6;
const RUNS = 2;

let pg: OwnPostgres | undefined;
let proc: ChildProcess | undefined;
let home: string | undefined;

afterAll(async () => {
  if (proc?.pid && proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGKILL');
  await pg?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('a PostgreSQL crash under weft start, with tasks finishing during it', () => {
  it('runs no task twice and finishes the runs promptly after recovery', async () => {
    pg = await OwnPostgres.start();
    home = await mkdtemp(join(tmpdir(), 'weft-outage-start-'));
    const port = await freePort();
    const ran = join(home, 'ran.txt');
    const go = join(home, 'go');
    proc = spawn(process.execPath, [BIN, 'start'], {
      env: {
        ...process.env,
        DATABASE_URL: pg.url,
        DATABASE_CONNECT_TIMEOUT_SEC: '2',
        WEFT_HOME: home,
        PORT: String(port),
        WEFT_ADMIN_API_KEY: ADMIN,
        WEFT_LOG_PRETTY: 'false',
        WEFT_LEASE_TTL_SEC: String(TTL_SEC),
        WEFT_HEARTBEAT_INTERVAL_SEC: '1',
        WEFT_SCHEDULER_TICK_MS: '200',
        WEFT_WORKER_CONCURRENCY: String(PARALLEL * RUNS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const base = `http://127.0.0.1:${port}`;
    const call = jsonCaller(() => base, ADMIN);
    await waitFor(async () => (await fetch(`${base}/health/ready`).catch(() => null))?.ok, `/health/ready (output: ${output})`, 60_000, 100);

    // Each task notes that it ran and waits for the test's signal; the even ones then say so in their log (their
    // log lines meet the outage first), the odd ones finish silently (their completion meets it). `join` runs after all.
    const work = (loud: boolean) =>
      `echo "$WEFT_RUN_ID $WEFT_TASK_ID $WEFT_TRY_NUMBER" >> ${ran}; while [ ! -e ${go} ]; do sleep 0.05; done${loud ? '; echo "done $WEFT_TASK_ID"' : ''}`;
    await call('POST', '/api/v1/dags', {
      dagId: 'outage',
      maxActiveTasks: 100,
      // A lost completion's task would run again once its lease expired.
      defaultArgs: { retries: 1, retryDelaySec: 0 },
      tasks: [
        ...Array.from({ length: PARALLEL }, (_, i) => ({ taskId: `p${i}`, type: 'shell', command: work(i % 2 === 0) })),
        { taskId: 'join', type: 'shell', command: `echo "$WEFT_RUN_ID join $WEFT_TRY_NUMBER" >> ${ran}`, dependsOn: Array.from({ length: PARALLEL }, (_, i) => `p${i}`) },
      ],
    });
    const runIds: string[] = [];
    for (let r = 0; r < RUNS; r++) runIds.push((await call('POST', '/api/v1/dags/outage/dagRuns', { logicalDate: `2024-01-0${r + 1}T00:00:00Z` })).runId);
    const lines = () => (existsSync(ran) ? readFileSync(ran, 'utf8').trim().split('\n').filter(Boolean) : []);
    await waitFor(async () => lines().length === PARALLEL * RUNS, 'every parallel task to be running', 60_000, 50);

    await pg.crash();
    // The tasks finish while the database is down; each one's completion (and log line) meets the outage.
    writeFileSync(go, '');
    // Until the API has refused (503) a completion and a log append of each task at least once.
    const refused = async (route: string) =>
      sample(await (await fetch(`${base}/metrics`)).text(), 'weft_http_request_duration_seconds_count', { route: `/api/v1/leases/:leaseId/${route}`, status_code: '503' }) ?? 0;
    await waitFor(
      async () => (await refused('complete')) >= (PARALLEL / 2) * RUNS && (await refused('logs')) >= (PARALLEL / 2) * RUNS,
      `every task's report to have met the outage (output: ${output.slice(-3000)})`,
      60_000,
      50,
    );

    await pg.restart();
    const recovered = Date.now();
    const states = await waitFor(
      async () => {
        const s = await Promise.all(runIds.map(async (id) => (await call('GET', `/api/v1/dags/outage/dagRuns/${encodeURIComponent(id)}`).catch(() => ({ state: 'unknown' }))).state as string));
        return s.every((x) => x === 'success' || x === 'failed') ? s : null;
      },
      'the runs to finish',
      TTL_SEC * 1000 * 3,
      100,
    );
    const finishedAfter = Date.now() - recovered;
    const executions = lines();
    const perTask = new Map<string, number>();
    for (const l of executions) {
      const [runId, taskId] = l.split(' ');
      perTask.set(`${runId} ${taskId}`, (perTask.get(`${runId} ${taskId}`) ?? 0) + 1);
    }
    const twice = [...perTask].filter(([, n]) => n > 1).map(([k]) => k);
    console.log(`runs finished ${finishedAfter} ms after PostgreSQL was back; ${executions.length} executions, ${twice.length} task(s) ran twice`);
    expect(states).toEqual(runIds.map(() => 'success'));
    expect(twice).toEqual([]);
    expect(perTask.size).toBe((PARALLEL + 1) * RUNS);
    // "Promptly", i.e. not a lease TTL later: no lease ran out (the reaper, in this same process, counts each one it
    // expires), and the runs finished inside one TTL of the recovery. The TTL is the mechanism's own clock, twice
    // what the old 15 s bound allowed, so a slow machine does not trip it; a completion that waited for its lease to
    // expire could not meet it.
    expect(sample(await (await fetch(`${base}/metrics`)).text(), 'weft_leases_expired_total')).toBe(0);
    expect(finishedAfter).toBeLessThan(TTL_SEC * 1000);

    // The lines the tasks logged during the outage reached the API too.
    for (const runId of runIds) {
      for (let i = 0; i < PARALLEL; i++) {
        const { items } = await call('GET', `/api/v1/dags/outage/dagRuns/${encodeURIComponent(runId)}/taskInstances/p${i}/tries/1/logs`);
        expect(items.map((l: { line: string }) => l.line)).toEqual(i % 2 === 0 ? [`done p${i}`] : []);
      }
    }

    process.kill(proc.pid!, 'SIGTERM');
    expect(await new Promise((r) => proc!.once('exit', r))).toBe(0);
    proc = undefined;
  }, 300_000);
});
