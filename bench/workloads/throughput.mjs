// Workload 2 (and 5, footprint under load): N no-op tasks through the HTTP lease API by 10 worker loops.
// The queue is prefilled by one scheduler tick: an hourly DAG of 20 independent no-op tasks, R runs due
// (R × 20 = N), all started (maxActiveRuns = R, maxActiveTasks and pool slots out of the way).
// Each worker loop: lease up to `capacity` → complete each task in turn → lease again; with `next`, the last
// completion of a batch carries `next: {capacity}` and its response holds the next batch (one round trip less).
// Ten loops means ten requests in flight at any time, as in the peer HTTP floor (lease.mjs, 10 workers).
import { dbBackendsCpu, foreignCpu, machineCpuS, rssPeakSampler } from '../lib/proc.mjs';
import { count, now, prefillQueue, sleep, TASKS_PER_RUN, withService } from './common.mjs';

export const THROUGHPUT_CONFIGS = [
  { name: 'single', capacity: 1, next: false },
  { name: 'single_next', capacity: 1, next: true },
  { name: 'batch10', capacity: 10, next: false },
  { name: 'batch10_next', capacity: 10, next: true },
  { name: 'batch50', capacity: 50, next: false },
  { name: 'batch50_next', capacity: 50, next: true },
  // Horizontal scale: the same workload through two API replicas (service processes) on one database, the worker
  // loops split between them (issue 22). Compare with `single` / `batch10_next` of the same repetition.
  { name: 'single_2replicas', capacity: 1, next: false, replicas: 2 },
  { name: 'batch10_next_2replicas', capacity: 10, next: true, replicas: 2 },
  // Information only: what synchronous_commit=off would buy (a crash could lose acknowledged completions; the
  // default stays on).
  { name: 'single_sync_off', capacity: 1, next: false, syncCommitOff: true },
  // Group commit (on by default since session 7, WEFT_GROUP_COMMIT_MAX_ITEMS=64) switched off, for a before/after in
  // one run: only when named in --configs. `_inflight2`: two batches of a kind in flight (the default of sessions 6
  // and 7) instead of one.
  { name: 'single_gc_off', capacity: 1, next: false, env: { WEFT_GROUP_COMMIT_MAX_ITEMS: '0' }, optional: true },
  { name: 'batch10_next_gc_off', capacity: 10, next: true, env: { WEFT_GROUP_COMMIT_MAX_ITEMS: '0' }, optional: true },
  { name: 'single_2replicas_gc_off', capacity: 1, next: false, replicas: 2, env: { WEFT_GROUP_COMMIT_MAX_ITEMS: '0' }, optional: true },
  { name: 'single_gc_inflight2', capacity: 1, next: false, env: { WEFT_GROUP_COMMIT_IN_FLIGHT: '2' }, optional: true },
  { name: 'batch10_next_gc_inflight2', capacity: 10, next: true, env: { WEFT_GROUP_COMMIT_IN_FLIGHT: '2' }, optional: true },
];
/** Footprint under load: batch10_next plus 50 long-pollers waiting on a queue that never gets work. */
export const FOOTPRINT_CONFIG = { name: 'batch10_next+50_longpollers', capacity: 10, next: true, idlePollers: 50 };

const WORKERS = 10;

export async function throughputRun(ctx, rep, cfg, { cpuProfDir } = {}) {
  const runs = Math.max(1, Math.round((cfg.tasks ?? ctx.sizes.throughputTasks) / TASKS_PER_RUN));
  const total = runs * TASKS_PER_RUN;
  return withService(ctx, async ({ svc, svcs, api, workers, sql, db }) => {
    const rssIdle = svc.rssMb();
    const prefill = await prefillQueue({ svc, api, sql }, 'tp', runs);

    let stopIdle = false;
    const idle = Array.from({ length: cfg.idlePollers ?? 0 }, async (_, i) => {
      while (!stopIdle) await workers[i % workers.length].lease(`idle${i}`, { queues: ['idle'], capacity: 1, waitSeconds: 1 });
    });
    if (cfg.idlePollers) await sleep(200);

    let done = 0, leaseCalls = 0, emptyLeases = 0;
    const lease = async (w, worker) => {
      leaseCalls++;
      const ls = await worker.lease(w, { queues: ['tp'], capacity: cfg.capacity, waitSeconds: 0 });
      if (!ls.length) emptyLeases++;
      return ls;
    };
    const foreign = foreignCpu();
    const rssPeak = rssPeakSampler(svc.pid);
    for (const s of svcs) await s.call('queries');
    const cpuAll = async () => (await Promise.all(svcs.map((s) => s.cpuUs()))).reduce((x, y) => x + y, 0);
    const pgOwn = dbBackendsCpu(db.name);
    const m0 = machineCpuS(), c0 = process.cpuUsage(), s0 = await cpuAll();
    const t0 = now();
    await Promise.all(Array.from({ length: WORKERS }, async (_, i) => {
      const w = `w${i}`;
      // With several replicas, the loops are split between them (as a load balancer would).
      const worker = workers[i % workers.length];
      let batch = await lease(w, worker);
      while (batch.length) {
        let nextBatch = null;
        for (let k = 0; k < batch.length; k++) {
          const last = k === batch.length - 1;
          if (cfg.next && last) {
            leaseCalls++;
            nextBatch = (await worker.complete(batch[k].leaseId, { status: 'success', next: { capacity: cfg.capacity } })).leases ?? [];
            if (!nextBatch.length) emptyLeases++;
          } else {
            await worker.complete(batch[k].leaseId);
          }
          done++;
        }
        batch = cfg.next ? nextBatch : await lease(w, worker);
      }
    }));
    const secs = (now() - t0) / 1000;
    const s1 = await cpuAll(), c1 = process.cpuUsage(c0), m1 = machineCpuS();
    const pgOwnS = pgOwn();
    const peak = rssPeak();
    const queries = { total: 0, top: [] };
    for (const s of svcs) {
      const q = await s.call('queries');
      queries.total += q.total;
      queries.top.push(...q.top);
    }
    const foreignS = foreign();
    stopIdle = true;
    await Promise.all(idle);
    const left = await count(sql, `SELECT count(*)::int n FROM task_instances WHERE state <> 'success'`);
    const serverCpuS = (s1 - s0) / 1e6, clientCpuS = (c1.user + c1.system) / 1e6, busy = m1.busy - m0.busy;
    const r2 = (x) => Math.round(x * 100) / 100;
    return ctx.record({
      workload: 'throughput', variant: cfg.name, rep, capacity: cfg.capacity, next: cfg.next, workers: WORKERS,
      replicas: svcs.length, synchronous_commit: cfg.syncCommitOff ? 'off' : 'on', service_env: cfg.env ?? {},
      idle_longpollers: cfg.idlePollers ?? 0, tasks: total, done, left, secs: +secs.toFixed(3), tasks_per_s: Math.round(done / secs),
      server_cpu_ms_per_task: +((serverCpuS * 1000) / done).toFixed(3), client_cpu_ms_per_task: +((clientCpuS * 1000) / done).toFixed(3),
      cpu_s: { server: r2(serverCpuS), client: r2(clientCpuS), machine_busy: r2(busy), rest_pg_etc: r2(busy - serverCpuS - clientCpuS), pg_own_db: pgOwnS },
      // PostgreSQL's CPU for this database alone (its backends), and everything of the measurement per task:
      // service + bench workers + those backends (the "CPU per lease+complete, all in").
      pg_cpu_ms_per_task: +((pgOwnS * 1000) / done).toFixed(3),
      all_in_cpu_ms_per_task: +(((serverCpuS + clientCpuS + pgOwnS) * 1000) / done).toFixed(3),
      statements_top: Object.fromEntries((queries.top ?? []).slice(0, 6).map(([k, n]) => [k, n])),
      sql_statements_per_task: +(queries.total / done).toFixed(2), lease_calls: leaseCalls, empty_leases: emptyLeases, prefill_tick_ms: +prefill.ms.toFixed(1),
      service_rss_idle_mb: rssIdle, service_rss_peak_mb: peak, foreign_cpu_s: foreignS,
    });
  }, { cpuProfDir, replicas: cfg.replicas, syncCommitOff: cfg.syncCommitOff, env: cfg.env });
}
