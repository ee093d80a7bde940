import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processGone } from '../../src/worker/executors/executor-testing.js';
import { freePort } from '../support/own-postgres.js';
import { waitFor } from '../support/wait.js';
import { jsonCaller } from '../support/http-json.js';

/**
 * `weft start` on its embedded database, killed with SIGKILL (an OOM kill, `kill -9`) while its built-in worker runs a
 * shell task, then started again on the same data directory; later stopped with two SIGTERMs while a task runs.
 * Nothing runs its shutdown in either case: the shell task's process group (a session of its own) and the embedded
 * PostgreSQL would run on, orphaned. The task must stop with the worker (else it runs on beside its retry once the
 * lease expires: a task running twice at once), and the next start must take the data directory over by itself.
 */
const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));
const ADMIN = 'killed-e2e-admin-key-0123456789';

let home: string | undefined;
const started: ChildProcess[] = [];
/** PIDs this file's processes left behind (a task's shell, a postmaster), ended by PID if a test failed before. */
const leftovers = new Set<number>();

afterAll(async () => {
  for (const p of started) if (p.pid && p.exitCode === null && p.signalCode === null) process.kill(p.pid, 'SIGKILL');
  if (home && existsSync(join(home, 'pgdata', 'postmaster.pid'))) leftovers.add(Number(readFileSync(join(home, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0]));
  for (const pid of leftovers) {
    try {
      if (!processGone(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (home) await rm(home, { recursive: true, force: true });
});

describe('weft start killed (SIGKILL) while its built-in worker runs a shell task', () => {
  it('takes the task down with it, and the next start takes the data directory over; the retry runs alone', async () => {
    home = await mkdtemp(join(tmpdir(), 'weft-killed-'));
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      WEFT_HOME: home,
      PORT: String(port),
      // A fixed port: the left-over server holds it, and the next start must not refuse it as taken by another process.
      WEFT_EMBEDDED_PG_PORT: String(await freePort()),
      WEFT_ADMIN_API_KEY: ADMIN,
      WEFT_LOG_PRETTY: 'false',
      WEFT_LEASE_TTL_SEC: '5',
      WEFT_HEARTBEAT_INTERVAL_SEC: '1',
      WEFT_SCHEDULER_TICK_MS: '200',
    };
    delete env.DATABASE_URL;
    const base = `http://127.0.0.1:${port}`;
    const start = async () => {
      const proc = spawn(process.execPath, [BIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      started.push(proc);
      const out = { text: '' };
      proc.stdout!.on('data', (d: Buffer) => (out.text += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (out.text += d.toString()));
      const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
      await waitFor(
        async () => (await fetch(`${base}/health/ready`).catch(() => null))?.ok || proc.exitCode !== null,
        `/health/ready (output: ${out.text})`,
        60_000,
        100,
      );
      expect({ exitCode: proc.exitCode, output: proc.exitCode === null ? '' : out.text }).toEqual({ exitCode: null, output: '' });
      return { proc, out, exited };
    };
    const call = jsonCaller(() => base, ADMIN);
    const ran = join(home, 'ran.txt');
    const go = join(home, 'go');
    const lines = () => (existsSync(ran) ? readFileSync(ran, 'utf8').trim().split('\n').filter(Boolean) : []);

    const first = await start();
    // Each attempt notes its start (with its shell's PID), logs a line, waits for the test's go, and notes its end.
    await call('POST', '/api/v1/dags', {
      dagId: 'long',
      defaultArgs: { retries: 2, retryDelaySec: 0 },
      tasks: [
        {
          taskId: 't',
          type: 'shell',
          command: `echo "start $WEFT_RUN_ID $WEFT_TRY_NUMBER $$" >> ${ran}; echo "working $WEFT_TRY_NUMBER"; while [ ! -e ${go}.$WEFT_RUN_ID ]; do sleep 0.05; done; echo "end $WEFT_RUN_ID $WEFT_TRY_NUMBER" >> ${ran}`,
        },
      ],
    });
    await call('POST', '/api/v1/dags/long/dagRuns', { runId: 'r1' });
    await waitFor(async () => lines().length === 1, 'try 1 to be running', 60_000, 50);
    const shellPid = Number(lines()[0]!.split(' ')[3]);
    leftovers.add(shellPid);
    const tryLogs = async (n: number) =>
      ((await call('GET', `/api/v1/dags/long/dagRuns/r1/taskInstances/t/tries/${n}/logs`)) as { items: { line: string }[] }).items.map((l) => l.line);
    // The line it logged has reached the API before the kill.
    await waitFor(async () => (await tryLogs(1)).includes('working 1'), "try 1's log line", 30_000, 50);
    const postmaster = Number(readFileSync(join(home, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0]);
    leftovers.add(postmaster);

    process.kill(first.proc.pid!, 'SIGKILL');
    await first.exited;
    // The attempt stops with its worker (its watchdog, SIGTERM to the group), long before its lease could expire.
    await waitFor(async () => processGone(shellPid), `the orphaned attempt's shell (PID ${shellPid}) to stop`, 30_000, 50);
    // Nothing stopped the embedded PostgreSQL: it still holds the data directory and its port.
    expect(processGone(postmaster)).toBe(false);

    const second = await start();
    expect(second.out.text).toMatch(new RegExp(`the embedded PostgreSQL \\(PID ${postmaster}\\) of a Weft process that ended without stopping it`));
    expect(processGone(postmaster)).toBe(true);
    // The lease of try 1 expires and is reaped; try 2 runs, alone, and finishes when told.
    await waitFor(async () => lines().length === 2, 'try 2 to be running', 60_000, 50);
    writeFileSync(`${go}.r1`, '');
    await waitFor(async () => ['success', 'failed'].includes((await call('GET', '/api/v1/dags/long/dagRuns/r1')).state), 'run r1 to finish', 60_000, 100);
    expect(lines().map((l) => l.split(' ').filter((_, i) => i !== 3).join(' '))).toEqual(['start r1 1', 'start r1 2', 'end r1 2']);
    const ti = await call('GET', '/api/v1/dags/long/dagRuns/r1/taskInstances/t');
    expect({ state: ti.state, tryNumber: ti.tryNumber, tries: ti.tries.map((t: { tryNumber: number; state: string }) => [t.tryNumber, t.state]) }).toEqual({
      state: 'success',
      tryNumber: 2,
      tries: [
        [1, 'up_for_retry'],
        [2, 'success'],
      ],
    });
    // The log of the killed attempt survived, apart from the retry's.
    expect(await tryLogs(1)).toEqual(['working 1']);
    expect(await tryLogs(2)).toEqual(['working 2']);

    // Two SIGTERMs while a task runs: the second one stops the process at once (exit 1), and its task with it.
    await call('POST', '/api/v1/dags/long/dagRuns', { runId: 'r2' });
    await waitFor(async () => lines().length === 4, 'the task of r2 to be running', 60_000, 50);
    const r2Shell = Number(lines()[3]!.split(' ')[3]);
    leftovers.add(r2Shell);
    process.kill(second.proc.pid!, 'SIGTERM');
    await waitFor(async () => /shutting down: draining/.test(second.out.text), 'the drain to begin', 30_000, 20);
    process.kill(second.proc.pid!, 'SIGTERM');
    expect(await second.exited).toBe(1);
    await waitFor(async () => processGone(r2Shell), `the task of r2 (PID ${r2Shell}) to stop`, 30_000, 50);
    expect(lines().filter((l) => l.startsWith('end r2'))).toEqual([]);
    expect(second.out.text).toMatch(/SIGTERM again while draining/);
  }, 300_000);
});
