import { beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../support/api.js';
import { useTestApp } from '../support/app.js';

/**
 * The reaper keeps its bound in a busy run: 20 workers lease the 500 tasks of one run and complete them (with XCom,
 * so each completion takes the run lock for a full transaction), while 2% of the attempts crash (their worker drops
 * them: no heartbeat, no completion). The bound is "lease TTL + one tick": every scheduler tick must reap every lease
 * that had expired when the tick began, however often the completions hold the run's row (before the fix, the reaper
 * skipped a run whose row was locked, tick after tick, and crashed attempts waited 3-9 s past their expiry). The test
 * drives the ticks itself and checks that after each one no lease expired at its start is left: a statement about
 * ticks, not about the machine's speed. How late each crashed attempt was re-leased is printed, not asserted.
 */
const TTL_SEC = 5;
/** The pace of the test's own scheduler loop (not a limit: a slow tick only delays the next one). */
const TICK_EVERY_MS = 200;
/** Each worker's attempt takes this long: the run sees many completions a second. */
const WORK_MS = 250;
const TASKS = 500;
const WORKERS = 20;
/** 10 of the 500 (2%), among the first claimed, so the run is still busy when their leases expire. */
const CRASHING = new Set(Array.from({ length: TASKS }, (_, i) => i).filter((i) => i < 100 && i % 10 === 3).map(taskId));

function taskId(i: number): string {
  return `t${String(i).padStart(3, '0')}`;
}

const h = useTestApp({ WEFT_LEASE_TTL_SEC: String(TTL_SEC), WEFT_HEARTBEAT_INTERVAL_SEC: '1', WEFT_RATE_LIMIT_PER_SEC: '0' });
let base: string;

beforeAll(async () => {
  base = await h.t.listen();
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
  it('reaps, on every tick, each lease that had expired when the tick began, while completions hold the run', async () => {
    const api = new Api(h.t.app);
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
    /** Expired leases of crashed attempts that a tick left behind, with the tick's time. */
    const missed: string[] = [];
    let ticks = 0;
    const scheduler = async () => {
      while (!finished) {
        const at = new Date();
        await api.tick(at);
        ticks++;
        const left = await h.db.query<{ task_id: string; expires_at: Date }>(
          `SELECT ti.task_id, l.expires_at FROM leases l JOIN task_instances ti ON ti.id = l.task_instance_id
           WHERE ti.dag_id = 'busy' AND l.expires_at <= $1`,
          [at],
        );
        for (const r of left.rows) missed.push(`${r.task_id} (expired ${r.expires_at.toISOString()}, tick at ${at.toISOString()})`);
        await new Promise((r) => setTimeout(r, TICK_EVERY_MS));
      }
    };
    const workers = Array.from({ length: WORKERS }, (_, n) => worker(n));
    const loop = scheduler();
    const timeout = setTimeout(allDone, 600_000);
    await done;
    clearTimeout(timeout);
    finished = true;
    await Promise.all([...workers, loop]);

    expect(errors).toEqual([]);
    expect(completed.size).toBe(TASKS);
    expect([...crashed.keys()].sort()).toEqual([...CRASHING].sort());
    const rows = [...crashed].map(([id, c]) => ({ taskId: id, lateAfterExpiry: (released.get(id) ?? NaN) - c.expiresAt }));
    console.log(
      `${ticks} ticks; crashed attempts re-leased (TTL ${TTL_SEC * 1000} ms, a tick every ~${TICK_EVERY_MS} ms plus its own time):\n` +
        rows.map((r) => `  ${r.taskId}: ${r.lateAfterExpiry} ms after its lease expired`).join('\n'),
    );
    expect(rows.filter((r) => Number.isNaN(r.lateAfterExpiry))).toEqual([]);
    expect(missed).toEqual([]);
    expect((await api.run('busy', runId)).state).toBe('success');
  }, 660_000);
});
