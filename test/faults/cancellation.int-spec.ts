import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { createDefaultExecutors } from '../../src/worker/executors/default-executors.js';
import { LocalWorker } from '../../src/worker/local-worker.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';

/**
 * The end of an attempt decided by the server, as workers see it:
 * - a lease past its expiry that the reaper has not ended yet gets one answer from heartbeat and completion (still
 *   live: extended, accepted), and after the reaper both say 409;
 * - clear, mark (a task), mark (a run) and the execution timeout each set cancelRequested on the attempt's lease, and
 *   the built-in worker stops the task at its next heartbeat and reports; the execution timeout is also enforced by
 *   the worker itself at the deadline.
 * The scheduler loop is off: the test ticks it.
 */
let t: TestApp;
let api: Api;
let db: pg.Client;
let dir: string;
const workerLog: { msg: string; taskId?: string }[] = [];
let worker: LocalWorker;

beforeAll(async () => {
  t = await startTestApp({ WEFT_HEARTBEAT_INTERVAL_SEC: '1' });
  api = new Api(t.app);
  const baseUrl = await t.listen();
  db = new pg.Client({ connectionString: t.db.url });
  await db.connect();
  dir = mkdtempSync(join(tmpdir(), 'weft-cancel-'));
  const logger = pino({ level: 'info' }, { write: (line: string) => void workerLog.push(JSON.parse(line)) });
  worker = new LocalWorker({
    apiUrl: baseUrl,
    workerId: 'builtin',
    queues: ['cancel'],
    concurrency: 4,
    executors: createDefaultExecutors({ connEnv: {} }),
    limits: { maxXcomBytes: 65536, maxLogLineBytes: 4096 },
    logger,
    waitSeconds: 1,
  });
  worker.start();
});

afterAll(async () => {
  await worker?.stop(0);
  await db?.end();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const expireLease = (leaseId: string) => db.query(`UPDATE leases SET expires_at = now() - interval '1 second' WHERE id = $1`, [leaseId]);

describe('a lease past its expiry, not reaped yet', () => {
  it('is still live for heartbeat and completion alike; once reaped, both answer 409', async () => {
    await api.registerDag(dag('late', [{ taskId: 'a' }, { taskId: 'b' }, { taskId: 'c', retries: 1 }]));
    await api.trigger('late');
    const leases = await api.lease('w', { queues: ['late'] });
    const by = Object.fromEntries(leases.map((l) => [l.taskId, l]));

    await expireLease(by.a.leaseId);
    const hb = await api.call('POST', `/api/v1/leases/${by.a.leaseId}/heartbeat`);
    expect(hb.status).toBe(200);
    expect(Date.parse(hb.body.leaseExpiresAt)).toBeGreaterThan(Date.now());
    expect((await api.complete(by.a.leaseId, { status: 'success' })).status).toBe(200);

    await expireLease(by.b.leaseId);
    expect((await api.complete(by.b.leaseId, { status: 'success' })).status).toBe(200);

    await expireLease(by.c.leaseId);
    expect((await api.tick(new Date())).reaped).toBe(1);
    expect((await api.call('POST', `/api/v1/leases/${by.c.leaseId}/heartbeat`)).status).toBe(409);
    const late = await api.complete(by.c.leaseId, { status: 'success' });
    expect(late.status).toBe(409);
    expect(late.body.details).toEqual({ reason: 'lease_lost' });
  });
});

describe('cancellation of a running attempt', () => {
  /** Registers a DAG whose one shell task writes its PID and sleeps; waits until try `n` runs on the built-in worker. */
  async function sleeping(dagId: string, extra: Record<string, unknown> = {}) {
    const pidFile = (n: number) => join(dir, `${dagId}.${n}.pid`);
    await api.registerDag({
      dagId,
      defaultArgs: { queue: 'cancel' },
      tasks: [{ taskId: 'sleepy', type: 'shell', command: `echo $$ > ${dir}/${dagId}.$WEFT_TRY_NUMBER.pid; exec sleep 60`, ...extra }],
    });
    const { runId } = await api.trigger(dagId);
    const pidOf = (n: number): Promise<number> =>
      waitFor(async () => (existsSync(pidFile(n)) ? Number(readFileSync(pidFile(n), 'utf8')) || null : null), `try ${n} of ${dagId} to run`, 30_000, 20);
    const ti = async () => (await db.query<{ id: number }>(`SELECT id FROM task_instances WHERE dag_id = $1`, [dagId])).rows[0]!.id;
    return { runId, pidOf, pid: await pidOf(1), tiId: await ti() };
  }

  /** The attempt's lease says cancelRequested, the worker stops the process, reports, and the lease goes. */
  async function expectStoppedByCancel(pid: number, leaseId: string) {
    expect((await db.query(`SELECT cancel_requested FROM leases WHERE id = $1`, [leaseId])).rows).toEqual([{ cancel_requested: true }]);
    await waitFor(async () => !alive(pid), `the task's process (${pid}) to be stopped`, 15_000, 20);
    await waitFor(async () => (await db.query(`SELECT 1 FROM leases WHERE id = $1`, [leaseId])).rowCount === 0, 'the worker to report (its lease released)', 15_000, 20);
    // The worker logs the API's answer after the transaction that released the lease has committed: wait for it.
    await waitFor(async () => workerLog.some((l) => l.taskId === 'sleepy' && l.msg.includes(`lease ${leaseId} was cancelled`)), 'the worker to log the cancellation', 15_000, 20);
  }

  const leaseOf = async (tiId: number) => (await db.query<{ id: string }>(`SELECT id FROM leases WHERE task_instance_id = $1 AND NOT cancel_requested`, [tiId])).rows[0]!.id;

  it('clear: the worker stops the task, and the next attempt runs', async () => {
    const { runId, pid, pidOf, tiId } = await sleeping('cancel_clear');
    const leaseId = await leaseOf(tiId);
    await api.ok('POST', '/api/v1/dags/cancel_clear/clearTaskInstances', { taskIds: ['sleepy'], dryRun: false });
    await expectStoppedByCancel(pid, leaseId);
    const second = await pidOf(2);
    expect(second).not.toBe(pid);
    await api.ok('PATCH', `/api/v1/dags/cancel_clear/dagRuns/${encodeURIComponent(runId)}/taskInstances/sleepy`, { newState: 'success' });
    await waitFor(async () => !alive(second), 'the second attempt to be stopped by the mark', 15_000, 20);
  });

  it('mark (a task): the worker stops the task; the mark stands', async () => {
    const { runId, pid, tiId } = await sleeping('cancel_mark');
    const leaseId = await leaseOf(tiId);
    await api.ok('PATCH', `/api/v1/dags/cancel_mark/dagRuns/${encodeURIComponent(runId)}/taskInstances/sleepy`, { newState: 'success' });
    await expectStoppedByCancel(pid, leaseId);
    expect((await api.run('cancel_mark', runId)).state).toBe('success');
  });

  it('mark (a run): the worker stops the task; the mark stands', async () => {
    const { runId, pid, tiId } = await sleeping('cancel_run');
    const leaseId = await leaseOf(tiId);
    await api.ok('PATCH', `/api/v1/dags/cancel_run/dagRuns/${encodeURIComponent(runId)}`, { state: 'failed' });
    await expectStoppedByCancel(pid, leaseId);
    expect(await api.taskStates('cancel_run', runId)).toEqual({ sleepy: 'failed' });
  });

  it('execution timeout: the built-in worker stops the task at its deadline and reports it (the retry policy applies)', async () => {
    const { runId, pid, tiId } = await sleeping('cancel_deadline', { executionTimeoutSec: 2, retries: 1, retryDelaySec: 3600 });
    const { rows } = await db.query<{ deadline: Date; started: Date }>(
      `SELECT l.deadline_at AS deadline, l.acquired_at AS started FROM leases l WHERE l.task_instance_id = $1`,
      [tiId],
    );
    // Nothing else stops it before its `sleep 60` ends: the scheduler loop (the reaper) is off here. So the bound is that
    // end (it started after its lease was acquired), with a second to spare, not a guess at this machine's speed.
    const ownEnd = rows[0]!.started.getTime() + 60_000 - 1000;
    await waitFor(async () => !alive(pid), 'the task to be stopped at its deadline', Math.max(0, ownEnd - Date.now()), 20);
    const stoppedLate = Date.now() - rows[0]!.deadline.getTime();
    console.log(`the built-in worker stopped the task ${stoppedLate} ms after its execution deadline (no scheduler tick)`);
    // Not before its deadline (a lower bound: slowness cannot break it); the try's error below says whose timer it was.
    expect(stoppedLate).toBeGreaterThanOrEqual(-250);
    const ti = await waitFor(async () => {
      const x = await api.ok('GET', `/api/v1/dags/cancel_deadline/dagRuns/${encodeURIComponent(runId)}/taskInstances/sleepy`);
      return x.state === 'up_for_retry' ? x : null;
    }, 'the attempt to be reported');
    expect(ti.tries[0].error).toBe('cancelled: execution_timeout');
  });

  it('execution timeout: the reaper ends an attempt still running past its deadline and its worker hears cancelRequested', async () => {
    await api.registerDag(dag('deadline_api', [{ taskId: 's', executionTimeoutSec: 1, retries: 1, retryDelaySec: 3600 }]));
    const { runId } = await api.trigger('deadline_api');
    // A worker that does not watch the deadline itself.
    const [lease] = await api.lease('plain', { queues: ['deadline_api'] });
    const deadline = Date.parse(lease.executionDeadline);
    await waitFor(async () => Date.now() > deadline, 'the deadline to pass', 10_000, 20);
    expect((await api.tick(new Date())).reaped).toBe(1);
    const ti = await api.ok('GET', `/api/v1/dags/deadline_api/dagRuns/${encodeURIComponent(runId)}/taskInstances/s`);
    expect(ti.state).toBe('up_for_retry');
    expect(ti.tries[0].error).toMatch(/^execution timeout/);
    const hb = await api.call('POST', `/api/v1/leases/${lease.leaseId}/heartbeat`);
    expect(hb).toMatchObject({ status: 200, body: { cancelRequested: true } });
    // It stops and reports: the result is discarded, the lease (and its pool slot) goes.
    const report = await api.complete(lease.leaseId, { status: 'failed', error: 'cancelled: cancel_requested', retryable: false });
    expect(report.status).toBe(409);
    expect((await db.query(`SELECT 1 FROM leases WHERE id = $1`, [lease.leaseId])).rowCount).toBe(0);
    expect((await api.call('POST', `/api/v1/leases/${lease.leaseId}/heartbeat`)).status).toBe(409);
    expect((await api.ok('GET', `/api/v1/dags/deadline_api/dagRuns/${encodeURIComponent(runId)}/taskInstances/s`)).state).toBe('up_for_retry');
  });

  it('a cancelled lease no worker reports on is dropped once it expires', async () => {
    await api.registerDag(dag('cancel_orphan', [{ taskId: 'o' }]));
    const { runId } = await api.trigger('cancel_orphan');
    const [lease] = await api.lease('gone', { queues: ['cancel_orphan'] });
    await api.ok('PATCH', `/api/v1/dags/cancel_orphan/dagRuns/${encodeURIComponent(runId)}/taskInstances/o`, { newState: 'failed' });
    // Its pool slot stays taken while its worker may still be running it.
    expect((await db.query(`SELECT cancel_requested FROM leases WHERE id = $1`, [lease.leaseId])).rows).toEqual([{ cancel_requested: true }]);
    await expireLease(lease.leaseId);
    await api.tick(new Date());
    expect((await db.query(`SELECT 1 FROM leases WHERE id = $1`, [lease.leaseId])).rowCount).toBe(0);
  });
});
