// Workload 1, scheduler scale:
//  - a backfill over 1,000 (10,000) hourly dates of a 5-task DAG: POST /api/v1/backfills until the first tasks
//    are leasable;
//  - one tick creating the due runs of one hourly DAG (1,000; 10,000 in normal mode), 5 no-op tasks each, with
//    maxActiveRuns 1,000 so the first task of every started run is queued (leasable) when the tick returns;
//  - evaluating a 1,000-task run after one completion (fan-out root, fan-out leaf, 1,000-task chain), through
//    POST /leases/{id}/complete, against the same call on a 5-task run; and resolveDownstream alone;
//  - expanding a mapped task into 1,000 instances: the completion of its upstream (whose XCom is the 1,000-element
//    list) through POST /leases/{id}/complete, which returns once all 1,000 are queued (issue 23);
//  - one tick over 1,000 hourly DAGs that each have one run due, then an idle tick.
import { performance } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { buildPath, fromBuild } from '../lib/weft.mjs';
import { foreignCpu } from '../lib/proc.mjs';
import { medianOf } from '../lib/stats.mjs';
import { chainTasks, count, dagDoc, fanOutTasks, hourNow, hoursBefore, now, registerAll, withService } from './common.mjs';

// The kernel's pure domain (dist/runs/domain in builds from before src/engine/, which --ref may measure).
const engineDomain = (file) => fromBuild(existsSync(buildPath('dist/engine')) ? `dist/engine/runs/domain/${file}` : `dist/runs/domain/${file}`);
const { resolveDownstream } = await engineDomain('resolve.js');
const { indexTaskGraph } = await engineDomain('task-graph.js');

/** The parts of the workload, by the names --scheduler=… selects (all by default). */
const PARTS = { due: dueRuns, backfill: backfills, evaluate: evaluation, expand: expansion, dags: manyDags, resolve: resolveOnly };

export async function schedulerWorkload(ctx, rep) {
  const wanted = ctx.schedulerParts ?? Object.keys(PARTS);
  for (const name of wanted) {
    if (!PARTS[name]) throw new Error(`--scheduler=${name}: no such part (${Object.keys(PARTS).join(', ')})`);
    await PARTS[name](ctx, rep);
  }
}

/** A small DAG ticked first so the measured tick does not pay for JIT warm-up and first connections. */
async function warmUp(svc, api, at) {
  await api.registerDag(dagDoc('warmup', chainTasks(5), { schedule: '@hourly', startDate: hoursBefore(at, 20), maxActiveRuns: 20 }));
  await svc.call('tick', { now: at.toISOString() });
}

async function dueRuns(ctx, rep) {
  for (const runs of ctx.sizes.dueRuns) {
    await withService(ctx, async ({ svc, api, sql }) => {
      const at = hourNow();
      await warmUp(svc, api, at);
      await api.registerDag(dagDoc('due', chainTasks(5), { schedule: '@hourly', startDate: hoursBefore(at, runs), maxActiveRuns: 1000 }));
      const foreign = foreignCpu();
      const r = await svc.call('tick', { now: at.toISOString() });
      const foreignS = foreign();
      const queued = await count(sql, `SELECT count(*)::int n FROM task_instances WHERE dag_id = 'due' AND state = 'queued'`);
      const started = await count(sql, `SELECT count(*)::int n FROM dag_runs WHERE dag_id = 'due' AND state = 'running'`);
      ctx.record({ workload: 'scheduler', variant: `due_runs_${runs}`, rep, runs, tasks_per_run: 5, ms: +r.ms.toFixed(1),
        created: r.created, runs_started: started, first_tasks_queued: queued, foreign_cpu_s: foreignS });
    });
  }
}

/**
 * POST /api/v1/backfills over 1,000 (10,000) hourly dates with maxActiveRuns 1,000: the response returns once
 * the plan is stored and the first 1,000 runs are created and started, so their first tasks are leasable.
 * Skipped (with a note) on a service without the backfill API.
 */
async function backfills(ctx, rep) {
  for (const runs of ctx.sizes.dueRuns) {
    await withService(ctx, async ({ svc, api, sql }) => {
      const at = hourNow();
      await warmUp(svc, api, at);
      const doc = (dagId) => dagDoc(dagId, chainTasks(5), { schedule: '@hourly', startDate: hoursBefore(at, runs + 48), catchup: false, maxActiveRuns: 1000 });
      await api.registerDag(doc('bfwarm'));
      const from = hoursBefore(at, runs + 24);
      const to = hoursBefore(at, 25);
      const warm = await api.post('/api/v1/backfills', { dagId: 'bfwarm', fromDate: from, toDate: hoursBefore(at, runs + 15), maxActiveRuns: 10 });
      if (warm.status === 404) {
        if (rep === 1) console.error('  (backfills: no /api/v1/backfills on this service; skipped)');
        return;
      }
      await api.registerDag(doc('bf'));
      const foreign = foreignCpu();
      const t0 = now();
      const res = await api.post('/api/v1/backfills', { dagId: 'bf', fromDate: from, toDate: to, maxActiveRuns: 1000 });
      const ms = now() - t0;
      const foreignS = foreign();
      if (res.status >= 300) throw new Error(`POST /backfills -> ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      const planned = await count(sql, `SELECT count(*)::int n FROM backfill_runs b JOIN backfills f ON f.id = b.backfill_id WHERE f.dag_id = 'bf'`);
      const created = await count(sql, `SELECT count(*)::int n FROM dag_runs WHERE dag_id = 'bf'`);
      const queued = await count(sql, `SELECT count(*)::int n FROM task_instances WHERE dag_id = 'bf' AND state = 'queued'`);
      ctx.record({ workload: 'scheduler', variant: `backfill_${runs}`, rep, dates: runs, tasks_per_run: 5, max_active_runs: 1000,
        ms: +ms.toFixed(1), planned, runs_created: created, first_tasks_queued: queued, foreign_cpu_s: foreignS });
    });
  }
}

async function evaluation(ctx, rep) {
  const samples = ctx.quick ? 2 : 5;
  await withService(ctx, async ({ svc, api, worker, sql }) => {
    await warmUp(svc, api, hourNow());
    await api.setPoolSlots('default_pool', 1_000_000);
    const big = { maxActiveTasks: 10_000, maxActiveRuns: 1000 };
    await api.registerDag(dagDoc('fan1k', fanOutTasks(1000), big));
    await api.registerDag(dagDoc('chain1k', chainTasks(1000), big));
    await api.registerDag(dagDoc('chain5', chainTasks(5), big));
    const lease1 = async (queue) => {
      const [l] = await worker.lease('eval', { queues: [queue], capacity: 1, waitSeconds: 0 });
      if (!l) throw new Error(`nothing to lease on ${queue}`);
      return l;
    };
    const timedComplete = async (l) => {
      const t0 = now();
      await worker.complete(l.leaseId);
      return now() - t0;
    };
    const ms = { fan_root: [], fan_leaf: [], chain_head: [], small_head: [] };
    const queuedAfter = { fan_root: [], chain_head: [] };
    const foreign = foreignCpu();
    for (let i = 0; i < samples; i++) {
      // Each new run gets an earlier logical date, so the claim order (oldest first) hands out its root rather
      // than work left queued by the previous sample.
      const logicalDate = new Date(Date.UTC(2024, 0, 1, samples - i)).toISOString();
      for (const [dagId, rootKey, leafKey] of [['fan1k', 'fan_root', 'fan_leaf'], ['chain1k', 'chain_head', null], ['chain5', 'small_head', null]]) {
        const run = await api.trigger(dagId, { logicalDate });
        ms[rootKey].push(await timedComplete(await lease1(dagId)));
        if (queuedAfter[rootKey]) {
          queuedAfter[rootKey].push(await count(sql, `SELECT count(*)::int n FROM task_instances WHERE dag_id = $1 AND run_id = $2 AND state = 'queued'`, [dagId, run.runId]));
        }
        if (leafKey) ms[leafKey].push(await timedComplete(await lease1(dagId)));
      }
    }
    const med = (xs) => medianOf(xs)?.median;
    ctx.record({ workload: 'scheduler', variant: 'evaluate_1000_task_run', rep, samples,
      complete_fan_root_ms: med(ms.fan_root), complete_fan_leaf_ms: med(ms.fan_leaf), complete_chain_head_ms: med(ms.chain_head),
      complete_5_task_run_ms: med(ms.small_head), fan_root_downstream_queued: med(queuedAfter.fan_root),
      chain_head_downstream_queued: med(queuedAfter.chain_head), foreign_cpu_s: foreign() });
  });
}

/**
 * Task mapping's cost in the scheduler: a run of `src → m` where `m` expands over src's XCom, a list of 1,000 files.
 * The measured call is src's completion: the expansion (1,000 queued instances, one statement) commits with it, so
 * its answer is "upstream completed → all 1,000 queued". Skipped on a service without `expand` (an older --ref).
 */
async function expansion(ctx, rep) {
  const samples = ctx.quick ? 2 : 5;
  const n = 1000;
  await withService(ctx, async ({ svc, api, worker, sql }) => {
    await warmUp(svc, api, hourNow());
    await api.setPoolSlots('default_pool', 1_000_000);
    const doc = dagDoc('map1k', [
      { taskId: 'src', type: 'noop' },
      { taskId: 'm', type: 'noop', dependsOn: ['src'], expand: { file: { xcomPull: { taskId: 'src' } } } },
    ], { maxActiveRuns: 1000, maxActiveTasks: 10_000 });
    try {
      await api.registerDag(doc);
    } catch (err) {
      if (rep === 1) console.error(`  (expansion: this service refuses 'expand'; skipped: ${String(err.message).slice(0, 120)})`);
      return;
    }
    const files = Array.from({ length: n }, (_, i) => `s3://bucket/in/part-${String(i).padStart(5, '0')}.csv`);
    const ms = [];
    const queued = [];
    const foreign = foreignCpu();
    for (let i = 0; i < samples + 1; i++) {
      const run = await api.trigger('map1k', { logicalDate: new Date(Date.UTC(2024, 0, 1, samples + 1 - i)).toISOString() });
      const [l] = await worker.lease('expand', { queues: ['map1k'], capacity: 1, waitSeconds: 0 });
      if (!l || l.taskId !== 'src') throw new Error(`expected src of ${run.runId}, leased ${l?.taskId}`);
      const t0 = now();
      await worker.complete(l.leaseId, { status: 'success', xcom: { return_value: files } });
      const took = now() - t0;
      const q = await count(sql, `SELECT count(*)::int n FROM task_instances WHERE dag_id = 'map1k' AND run_id = $1 AND task_id = 'm' AND state = 'queued'`, [run.runId]);
      if (q !== n) throw new Error(`expected ${n} queued instances of m, found ${q}`);
      // The first sample warms the statement and the version cache up; it is not counted.
      if (i > 0) {
        ms.push(took);
        queued.push(q);
      }
    }
    ctx.record({ workload: 'scheduler', variant: 'expand_1000', rep, samples, instances: n,
      complete_to_all_queued_ms: medianOf(ms)?.median, queued: medianOf(queued)?.median, foreign_cpu_s: foreign() });
  });
}

async function manyDags(ctx, rep) {
  const n = ctx.sizes.tickDags;
  await withService(ctx, async ({ svc, api }) => {
    const at = hourNow();
    await warmUp(svc, api, at);
    const docs = Array.from({ length: n }, (_, i) => dagDoc(`hourly_${i}`, chainTasks(5), { schedule: '@hourly', startDate: hoursBefore(at, 1) }));
    const t0 = now();
    await registerAll(api, docs);
    const registerMs = now() - t0;
    const foreign = foreignCpu();
    const due = await svc.call('tick', { now: at.toISOString() });
    const idle = await svc.call('tick', { now: new Date(at.getTime() + 60e3).toISOString() });
    // Steady state: an hour later every DAG has its next run due again (DAG versions already seen once).
    const nextHour = ctx.quick ? null : await svc.call('tick', { now: new Date(at.getTime() + 3600e3).toISOString() });
    ctx.record({ workload: 'scheduler', variant: `tick_${n}_dags`, rep, dags: n, tick_ms: +due.ms.toFixed(1), created: due.created,
      idle_tick_ms: +idle.ms.toFixed(1), next_hour_tick_ms: nextHour && +nextHour.ms.toFixed(1), next_hour_created: nextHour?.created,
      register_dag_ms: +(registerMs / n).toFixed(2), foreign_cpu_s: foreign() });
  });
}

/** resolveDownstream alone (no I/O), on a prebuilt index as the engine calls it; median of many calls. */
function resolveOnly(ctx, rep) {
  const graphOf = (tasks) => new Map(tasks.map((t) => [t.taskId, { upstream: t.dependsOn ?? [], triggerRule: 'all_success' }]));
  const time = (fn, iterations) => {
    for (let i = 0; i < 50; i++) fn();
    const xs = [];
    for (let i = 0; i < iterations; i++) {
      const t0 = performance.now();
      fn();
      xs.push((performance.now() - t0) * 1000);
    }
    return medianOf(xs).median;
  };
  const fan = indexTaskGraph(graphOf(fanOutTasks(1000)));
  const chain = indexTaskGraph(graphOf(chainTasks(1000)));
  const fanStates = new Map([['root', ['success']]]);
  const leafStates = new Map([['root', ['success']], ['leaf0', ['success']]]);
  const chainStates = new Map([['t0', ['success']]]);
  const iterations = ctx.quick ? 200 : 1000;
  const fanGraph = graphOf(fanOutTasks(1000));
  ctx.record({ workload: 'scheduler', variant: 'resolve_downstream_1000', rep, iterations,
    fan_root_us: time(() => resolveDownstream(fan, fanStates, ['root']), iterations),
    fan_leaf_us: time(() => resolveDownstream(fan, leafStates, ['leaf0']), iterations),
    chain_head_us: time(() => resolveDownstream(chain, chainStates, ['t0']), iterations),
    index_fan_us: time(() => indexTaskGraph(fanGraph), ctx.quick ? 20 : 100) });
}
