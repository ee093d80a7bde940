import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * The reaper keeps its bound in a busy run: 20 workers lease the 500 tasks of one run and complete them (with XCom,
 * so each completion takes the run lock for a full transaction), while 2% of the attempts crash (their worker drops
 * them: no heartbeat, no completion). Every crashed attempt must be re-leased within the lease TTL plus one scheduler
 * tick of its last sign of life, however often the completions hold the run's row.
 */
const TTL_SEC = 5;
const TICK_MS = 1000;
/** Each worker's attempt takes this long: the run sees ~80 completions a second. */
const WORK_MS = 250;
/**
 * What may come on top of the bound besides the reaper: the work of the tick that reaps (its jobs before the reaper,
 * up to a second on a busy 2-core machine), and a worker becoming free for the re-queued task (all are busy: up to
 * one WORK_MS). Without the fix, crashed attempts here were re-leased 3–9 s after their expiry.
 */
const ALLOWANCE_MS = WORK_MS + 1000;
const TASKS = 500;
const WORKERS = 20;
/** 10 of the 500 (2%), among the first claimed, so the run is still busy when their leases expire. */
const CRASHING = new Set(Array.from({ length: TASKS }, (_, i) => i).filter((i) => i < 100 && i % 10 === 3).map(taskId));

function taskId(i: number): string {
  return `t${String(i).padStart(3, '0')}`;
}

let t: TestApp;
let base: string;

beforeAll(async () => {
  t = await startTestApp(
    { WEFT_LEASE_TTL_SEC: String(TTL_SEC), WEFT_HEARTBEAT_INTERVAL_SEC: '1', WEFT_SCHEDULER_TICK_MS: String(TICK_MS), WEFT_RATE_LIMIT_PER_SEC: '0' },
    { runScheduler: true },
  );
  base = await t.listen();
});

afterAll(async () => {
  await t?.close();
});

async function post(path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

describe('the reaper under load', () => {
  it('re-leases every crashed attempt of a busy run within TTL + tick', async () => {
    const api = new Api(t.app);
    await api.registerDag({
      dagId: 'busy',
      maxActiveTasks: 100,
      defaultArgs: { queue: 'busy', retries: 1, retryDelaySec: 0 },
      tasks: Array.from({ length: TASKS }, (_, i) => ({ taskId: taskId(i), type: 'noop' })),
    });
    const { runId } = await api.trigger('busy');

    const crashed = new Map<string, { leasedAt: number; expiresAt: number }>();
    const released = new Map<string, number>();
    const completed = new Set<string>();
    let allDone!: () => void;
    const done = new Promise<void>((resolve) => (allDone = resolve));
    let finished = false;
    const errors: string[] = [];

    const worker = async (n: number) => {
      while (!finished) {
        const res = await post(`/api/v1/workers/load-${n}/lease`, { queues: ['busy'], capacity: 1, waitSeconds: 2 });
        if (res.status !== 200) {
          errors.push(`lease: ${res.status} ${JSON.stringify(res.json)}`);
          continue;
        }
        const now = Date.now();
        for (const lease of res.json.leases) {
          if (lease.tryNumber === 1 && CRASHING.has(lease.taskId)) {
            // The worker "crashes": the attempt is simply dropped.
            crashed.set(lease.taskId, { leasedAt: now, expiresAt: Date.parse(lease.leaseExpiresAt) });
            continue;
          }
          if (lease.tryNumber > 1) released.set(lease.taskId, now);
          await new Promise((r) => setTimeout(r, WORK_MS));
          const c = await post(`/api/v1/leases/${lease.leaseId}/complete`, { status: 'success', xcom: { return_value: { worker: n } } });
          if (c.status !== 200) errors.push(`complete ${lease.taskId}: ${c.status} ${JSON.stringify(c.json)}`);
          completed.add(lease.taskId);
          if (completed.size === TASKS) allDone();
        }
      }
    };
    const workers = Array.from({ length: WORKERS }, (_, n) => worker(n));
    const timeout = setTimeout(allDone, 180_000);
    await done;
    clearTimeout(timeout);
    finished = true;
    await Promise.all(workers);

    expect(errors).toEqual([]);
    expect(completed.size).toBe(TASKS);
    expect([...crashed.keys()].sort()).toEqual([...CRASHING].sort());
    const bound = TTL_SEC * 1000 + TICK_MS;
    const rows = [...crashed].map(([id, c]) => ({
      taskId: id,
      sinceLastSignOfLife: (released.get(id) ?? NaN) - c.leasedAt,
      lateAfterExpiry: (released.get(id) ?? NaN) - c.expiresAt,
    }));
    console.log(
      `crashed attempts re-leased (bound TTL ${TTL_SEC * 1000} ms + tick ${TICK_MS} ms = ${bound} ms, allowance ${ALLOWANCE_MS} ms):\n` +
        rows.map((r) => `  ${r.taskId}: ${r.sinceLastSignOfLife} ms after its lease, ${r.lateAfterExpiry} ms after expiry`).join('\n'),
    );
    for (const r of rows) expect({ taskId: r.taskId, withinBound: r.sinceLastSignOfLife <= bound + ALLOWANCE_MS }).toEqual({ taskId: r.taskId, withinBound: true });
    expect((await api.run('busy', runId)).state).toBe('success');
  }, 240_000);
});
