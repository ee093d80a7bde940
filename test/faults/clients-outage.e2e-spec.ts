import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startTestApp, type TestApp } from '../support/app.js';
import { buildGoChainWorker, buildTsClient, missingClientToolchains, chainWorkerCommand, clientWorkerEnv } from '../support/clients.js';
import { sample } from '../support/metrics.js';
import { adminUrl } from '../support/pg-urls.mjs';
import { waitFor } from '../support/wait.js';
import { jsonCaller } from '../support/http-json.js';

/**
 * The worker helpers of the generated clients (TypeScript, Python, Go: clients/*, run as real processes as in
 * test/e2e/clients.e2e-spec.ts) through a database failover under the real service: the test's database turns
 * read-only (its sessions ended) while a task of each language finishes, so the API answers their log lines and
 * completions 503 for longer than the helpers used to retry (five attempts, 10–15 s). Each helper must keep
 * sending (and heartbeating) until the API takes them: no task runs twice, no line is lost, and the run finishes
 * promptly once the database is writable again.
 */
const QUEUE = 'outage';
const LANGS = ['ts', 'py', 'go'] as const;
type Lang = (typeof LANGS)[number];
/** Longer than the old helpers' whole retry budget (TypeScript 10 s, Python and Go 15 s of sleeps). */
const OUTAGE_MS = 17_000;
/** The lease TTL (the default, stated): a completion lost to the outage would have its task run again after it. */
const TTL_SEC = 60;

const MISSING = missingClientToolchains({ python: true, go: true });
const SKIP = MISSING.length > 0 && !process.env.CI;
if (SKIP) console.warn(`skipping the client-helpers outage test: missing ${MISSING.join('; ')}`);

let t: TestApp;
let baseUrl: string;
let tmp: string;
let tsBuild: { dir: string; remove(): void } | undefined;
let admin: pg.Client;
const workers = new Map<Lang, { proc: ChildProcess; output: string[] }>();

beforeAll(async () => {
  if (SKIP) return;
  tmp = mkdtempSync(join(tmpdir(), 'weft-clients-outage-'));
  await Promise.all([
    buildTsClient().then((b) => (tsBuild = b)),
    buildGoChainWorker(join(tmp, 'go-chain-worker')),
  ]);
  t = await startTestApp({ WEFT_LEASE_TTL_SEC: String(TTL_SEC), WEFT_HEARTBEAT_INTERVAL_SEC: '1', WEFT_SCHEDULER_TICK_MS: '250', DATABASE_CONNECT_TIMEOUT_SEC: '2' }, { runScheduler: true });
  baseUrl = await t.listen();
  admin = new pg.Client({ connectionString: adminUrl(process.env.WEFT_TEST_SERVER_URL!) });
  await admin.connect();
  for (const lang of LANGS) startWorker(lang);
}, 300_000);

afterAll(async () => {
  for (const { proc } of workers.values()) if (proc.pid && proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGKILL');
  await admin?.query(`ALTER DATABASE ${t.db.name} RESET default_transaction_read_only`).catch(() => undefined);
  await admin?.end();
  await t?.close();
  tsBuild?.remove();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function startWorker(lang: Lang): void {
  const [bin, args] = chainWorkerCommand(lang, tsBuild!.dir, join(tmp, 'go-chain-worker'));
  const proc = spawn(bin, args, {
    env: clientWorkerEnv({
      WEFT_API_URL: baseUrl,
      WEFT_WORKER_ID: `${lang}-worker`,
      WEFT_WORKER_QUEUES: QUEUE,
      WEFT_WAIT_SECONDS: '5',
      WEFT_WORKER_CONCURRENCY: '2',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  proc.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  proc.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  workers.set(lang, { proc, output });
}

function outputs(): string {
  return [...workers].map(([id, w]) => `--- ${id}\n${w.output.join('').slice(-3000)}`).join('\n');
}

const call = jsonCaller(() => baseUrl);

async function setReadOnly(on: boolean): Promise<void> {
  await admin.query(`ALTER DATABASE ${t.db.name} ${on ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}`);
  if (on) await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [t.db.name]);
}

(SKIP ? describe.skip : describe)('the client worker helpers through a database failover', () => {
  it('keep sending log lines and completions until the API takes them: nothing runs twice, the run finishes promptly', async () => {
    const hold = join(tmp, 'go');
    // Per language: a task that logs a line as it finishes (its log line meets the failover first) and a silent one
    // (its completion does).
    const step = (type: string, silent: boolean) => ({ type, args: { add: 1, holdUntilFile: hold, silent } });
    const held = ['first', 'second', 'third', 'first_quiet', 'second_quiet', 'third_quiet'];
    await call('POST', '/api/v1/dags', {
      dagId: 'client_outage',
      defaultArgs: { queue: QUEUE, retries: 1, retryDelaySec: 0 },
      tasks: [
        { taskId: 'first', ...step('ts_step', false) },
        { taskId: 'second', ...step('py_step', false) },
        { taskId: 'third', ...step('go_step', false) },
        { taskId: 'first_quiet', ...step('ts_step', true) },
        { taskId: 'second_quiet', ...step('py_step', true) },
        { taskId: 'third_quiet', ...step('go_step', true) },
        { taskId: 'after', type: 'ts_step', dependsOn: held },
      ],
    });
    const { runId } = await call('POST', '/api/v1/dags/client_outage/dagRuns', {});
    const tis = async () => (await call('GET', `/api/v1/dags/client_outage/dagRuns/${encodeURIComponent(runId)}/taskInstances`)).items as any[];
    await waitFor(async () => (await tis()).filter((ti) => ti.state === 'running').length === held.length, `the held tasks to run\n${outputs()}`, 120_000, 100);

    await setReadOnly(true);
    writeFileSync(hold, '');
    const refused = async (route: string) =>
      sample(await (await fetch(`${baseUrl}/metrics`)).text(), 'weft_http_request_duration_seconds_count', { route: `/api/v1/leases/:leaseId/${route}`, status_code: '503' }) ?? 0;
    await waitFor(async () => (await refused('logs')) >= 3 && (await refused('complete')) >= 3, `the helpers' reports to meet the failover\n${outputs()}`, 60_000, 100);
    // The failover lasts longer than the helpers used to retry (the outage's length is the fault injected here).
    const failoverFrom = Date.now();
    await waitFor(async () => Date.now() - failoverFrom >= OUTAGE_MS, 'the failover to last', OUTAGE_MS + 5000, 250);

    await setReadOnly(false);
    const recovered = Date.now();
    const state = await waitFor(
      async () => {
        const { state: s } = await call('GET', `/api/v1/dags/client_outage/dagRuns/${encodeURIComponent(runId)}`).catch(() => ({ state: 'unknown' }));
        return s === 'success' || s === 'failed' ? (s as string) : null;
      },
      `the run to finish\n${outputs()}`,
      180_000,
      100,
    );
    const finishedAfter = Date.now() - recovered;
    console.log(`run finished ${finishedAfter} ms after the database was writable again (failover ${OUTAGE_MS} ms)`);
    expect(state).toBe('success');
    const byTask = Object.fromEntries((await tis()).map((ti) => [ti.taskId, ti.tries.map((tr: any) => [tr.tryNumber, tr.workerId])]));
    expect(byTask).toEqual({
      first: [[1, 'ts-worker']],
      second: [[1, 'py-worker']],
      third: [[1, 'go-worker']],
      first_quiet: [[1, 'ts-worker']],
      second_quiet: [[1, 'py-worker']],
      third_quiet: [[1, 'go-worker']],
      after: [[1, 'ts-worker']],
    });
    // "Promptly": not a lease TTL later. No lease ran out (the reaper runs in the test app and counts each one it
    // expires) and the run finished inside one TTL of the recovery: the mechanism's own clock, not a guess at how
    // fast this machine is; a helper that left its completion to the lease's expiry could not meet it.
    expect(sample(await (await fetch(`${baseUrl}/metrics`)).text(), 'weft_leases_expired_total')).toBe(0);
    expect(finishedAfter).toBeLessThan(TTL_SEC * 1000);
    // The line each handler logged while the API could not take it arrived.
    for (const [taskId, line] of [['first', 'try 1: total 1'], ['second', 'try 1: total 1.0'], ['third', 'try 1: total 1']]) {
      const logs = await call('GET', `/api/v1/dags/client_outage/dagRuns/${encodeURIComponent(runId)}/taskInstances/${taskId}/logs`);
      expect(logs.items.map((l: any) => l.line)).toContain(line);
    }

    for (const { proc } of workers.values()) proc.kill('SIGTERM');
    const codes = await Promise.all([...workers.values()].map(({ proc }) => (proc.exitCode !== null ? proc.exitCode : new Promise((r) => proc.once('exit', r)))));
    expect(codes).toEqual([0, 0, 0]);
  }, 400_000);
});
