import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/logging/logger.js';
import { createDefaultExecutors } from '../../src/worker/executors/default-executors.js';
import { LocalWorker } from '../../src/worker/local-worker.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';

/**
 * A `weft worker` frozen (SIGSTOP: a stalled VM, a paused container, a process cut off) past its lease while it runs a
 * shell task. The task's process group is not frozen with it: left alone it would run on, and once the lease expired
 * and the task was leased to another worker, beside its retry. It must be stopped by the time the lease can be
 * reaped (by the group's watchdog, which sees no heartbeat accepted), so the retry runs alone; the worker, thawed,
 * finds its attempt gone and goes on.
 */
const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

let t: TestApp;
let api: Api;
let baseUrl: string;
let dir: string;
let frozen: ChildProcess | undefined;

beforeAll(async () => {
  t = await startTestApp({ WEFT_LEASE_TTL_SEC: '5', WEFT_HEARTBEAT_INTERVAL_SEC: '1', WEFT_SCHEDULER_TICK_MS: '200' }, { runScheduler: true });
  api = new Api(t.app);
  baseUrl = await t.listen();
  dir = await mkdtemp(join(tmpdir(), 'weft-frozen-'));
});
afterAll(async () => {
  if (frozen?.pid && frozen.exitCode === null && frozen.signalCode === null) {
    process.kill(frozen.pid, 'SIGCONT');
    process.kill(frozen.pid, 'SIGKILL');
  }
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a worker frozen (SIGSTOP) past its lease while it runs a shell task', () => {
  it('has the task stopped before its retry starts elsewhere; thawed, it finds the attempt gone', async () => {
    const ran = join(dir, 'ran');
    // Each attempt first looks whether the previous one's shell is still alive (not a zombie) and says so, then notes
    // its own PID and start, and waits for the test's go.
    const command = [
      `p=$(cat ${dir}/pid 2>/dev/null)`,
      `st=$([ -n "$p" ] && sed 's/.*) //' /proc/$p/stat 2>/dev/null | cut -c1)`,
      `if [ -n "$st" ] && [ "$st" != Z ]; then echo "overlap $WEFT_TRY_NUMBER" >> ${ran}; fi`,
      `echo $$ > ${dir}/pid`,
      `echo "start $WEFT_TRY_NUMBER" >> ${ran}`,
      `while [ ! -e ${dir}/go ]; do sleep 0.05; done`,
      `echo "end $WEFT_TRY_NUMBER" >> ${ran}`,
    ].join('; ');
    await api.registerDag(dag('frozen', [{ taskId: 'long', type: 'shell', command, retries: 1, retryDelaySec: 0 }]));
    const run = await api.trigger('frozen');
    const lines = () => (existsSync(ran) ? readFileSync(ran, 'utf8').trim().split('\n').filter(Boolean) : []);

    // Concurrency 1: the frozen worker holds no long poll that the retry could be handed to.
    frozen = spawn(process.execPath, [BIN, 'worker'], {
      env: { ...process.env, WEFT_API_URL: baseUrl, WEFT_WORKER_QUEUES: 'frozen', WEFT_WORKER_ID: 'frozen', WEFT_WORKER_CONCURRENCY: '1', WEFT_LOG_LEVEL: 'warn', WEFT_LOG_PRETTY: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    frozen.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    frozen.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => frozen!.once('exit', (code) => resolve(code)));
    await waitFor(async () => lines().includes('start 1'), `try 1 to start (output: ${output})`, 120_000);
    process.kill(frozen.pid!, 'SIGSTOP');

    const rescuer = new LocalWorker({
      apiUrl: baseUrl,
      workerId: 'rescuer',
      queues: ['frozen'],
      concurrency: 1,
      executors: createDefaultExecutors({ connEnv: {} }),
      limits: { maxXcomBytes: 65536, maxLogLineBytes: 4096 },
      logger: createLogger('silent', false),
      waitSeconds: 2,
    });
    rescuer.start();
    try {
      await waitFor(async () => lines().includes('start 2'), 'the retry to start on the other worker', 120_000);
      writeFileSync(join(dir, 'go'), '');
      await waitFor(async () => ['success', 'failed'].includes((await api.run('frozen', run.runId)).state), 'the run to finish', 60_000);
    } finally {
      await rescuer.stop(1000);
    }
    // Try 1 was stopped while its worker was frozen, before try 2 began; it never got to its end.
    expect(lines()).toEqual(['start 1', 'start 2', 'end 2']);
    const ti = await api.ok('GET', `/api/v1/dags/frozen/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/long`);
    expect(ti.tries.map((x: { tryNumber: number; state: string; workerId: string }) => [x.tryNumber, x.state, x.workerId])).toEqual([
      [1, 'up_for_retry', 'frozen'],
      [2, 'success', 'rescuer'],
    ]);

    // Thawed, the worker sees that no heartbeat was accepted for the lease's life, and that the attempt is gone.
    process.kill(frozen.pid!, 'SIGCONT');
    await waitFor(async () => /no heartbeat accepted for as long as the lease lives/.test(output) && /lease_lost|not accepted/.test(output), `the thawed worker to give the attempt up (output: ${output})`, 30_000);
    process.kill(frozen.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    frozen = undefined;
  }, 300_000);
});
