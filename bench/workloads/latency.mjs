// Workloads 3 and 4: latency with workers already waiting in a long poll (4 of them, as the peer HTTP floor).
//  - dispatch: trigger a one-task run → the task in a worker's hands (the trigger's round trip included, as the
//    floor's /enqueue and graphile-worker's addJob are);
//  - hops: a linear DAG A→B→C→D→E; hop = one task in hand → the next task in hand (peers measure the same:
//    handler start to handler start), also "A's complete sent → B in hand", and trigger → E in hand;
//  - chain40: 40 sequential tasks of 10 ms each, trigger → last task done.
// Each variant also runs with complete-and-lease-next (`next: {capacity: 1, waitSeconds}`): the worker's
// completion request waits for its next task instead of a separate long poll.
import { summarize } from '../lib/stats.mjs';
import { foreignCpu } from '../lib/proc.mjs';
import { chainTasks, dagDoc, noop, now, sleep, withService } from './common.mjs';

const POLLERS = 4;
const WAIT_S = 2;

/** Long-polling workers; `onTask(lease, tHand)` runs before the completion, `afterComplete` after it. */
function startPollers(api, queue, { next = false, taskMs = 0, onTask, afterComplete, beforeComplete }) {
  let stop = false;
  const loops = Array.from({ length: POLLERS }, async (_, i) => {
    let pending = [];
    while (!stop) {
      if (!pending.length) {
        pending = await api.lease(`p${i}`, { queues: [queue], capacity: 1, waitSeconds: WAIT_S });
        continue;
      }
      const l = pending.shift();
      const t = now();
      onTask?.(l, t);
      if (taskMs) await sleep(taskMs);
      beforeComplete?.(l, now());
      const res = await api.complete(l.leaseId, next && !stop ? { status: 'success', next: { capacity: 1, waitSeconds: WAIT_S } } : { status: 'success' });
      afterComplete?.(l, t);
      if (res.leases) pending.push(...res.leases);
    }
  }).map((loop) => loop.catch((err) => { if (!stop) failure ??= err; }));
  let failure = null;
  // A failed poller fails the measurement when it is stopped (errors after stop are the service going away).
  return async () => {
    stop = true;
    await Promise.race([Promise.all(loops), sleep((WAIT_S + 1) * 1000)]);
    if (failure) throw failure;
  };
}

let logicalSeq = 0;
/** Distinct logical dates for manual runs (two triggers in one millisecond would clash). */
const nextLogicalDate = () => new Date(Date.UTC(2020, 0, 1) + ++logicalSeq * 1000).toISOString();

export async function dispatchLatency(ctx, rep, { next = false } = {}) {
  const n = ctx.sizes.latencyTasks;
  await withService(ctx, async ({ svc, api, worker }) => {
    await api.registerDag(dagDoc('lat', [noop('only')], { maxActiveRuns: 1000 }));
    let waiter = null;
    const hand = (l, t) => { const w = waiter; waiter = null; w?.(t); };
    // As the floor does, the next trigger waits for the completion; with `next` the completion request is
    // itself the next wait, so the task in hand is what counts.
    const stop = startPollers(worker, 'lat', next ? { next, onTask: hand } : { afterComplete: hand });
    await sleep(300);
    const lat = [], triggerRtt = [];
    for (let i = 0; i < 20; i++) await once(); // warm-up, not recorded
    lat.length = triggerRtt.length = 0;
    const foreign = foreignCpu();
    await svc.call('queries');
    for (let i = 0; i < n; i++) {
      lat.push(await once());
      await sleep(2 + Math.random() * 8);
    }
    const queries = await svc.call('queries');
    const foreignS = foreign();
    await stop();
    ctx.record({ workload: 'dispatch', variant: next ? 'longpoll_next' : 'longpoll', rep, longpollers: POLLERS, tasks: n,
      ms: summarize(lat), trigger_rtt_ms: summarize(triggerRtt), sql_statements_per_task: +(queries.total / n).toFixed(1), foreign_cpu_s: foreignS });

    async function once() {
      const got = new Promise((r) => { waiter = r; });
      const t0 = now();
      await api.trigger('lat', { logicalDate: nextLogicalDate() });
      triggerRtt.push(now() - t0);
      return (await got) - t0;
    }
  });
}

export async function chainLatency(ctx, rep, { steps, taskMs, chains, next = false }) {
  await withService(ctx, async ({ api, worker }) => {
    const names = steps === 5 ? ['A', 'B', 'C', 'D', 'E'] : Array.from({ length: steps }, (_, i) => `S${String(i).padStart(2, '0')}`);
    const tasks = chainTasks(steps, (i) => names[i]);
    await api.registerDag(dagDoc('chain', tasks, { maxActiveRuns: 1000 }));
    let hand = {}, sent = {}, finish = null;
    const last = names.at(-1);
    const stop = startPollers(worker, 'chain', {
      next, taskMs,
      onTask: (l, t) => { hand[l.taskId] = t; if (l.taskId === last) { const f = finish; finish = null; f?.(); } },
      beforeComplete: (l, t) => { sent[l.taskId] = t; },
    });
    await sleep(300);
    const runChain = async () => {
      hand = {}; sent = {};
      const fin = new Promise((r) => { finish = r; });
      const t0 = now();
      await api.trigger('chain', { logicalDate: nextLogicalDate() });
      await fin;
      return t0;
    };
    for (let i = 0; i < 3; i++) await runChain(); // warm-up
    const hops = [], fromComplete = [], totals = [];
    const foreign = foreignCpu();
    for (let c = 0; c < chains; c++) {
      const t0 = await runChain();
      for (let k = 1; k < names.length; k++) {
        hops.push(hand[names[k]] - hand[names[k - 1]]);
        fromComplete.push(hand[names[k]] - sent[names[k - 1]]);
      }
      totals.push(hand[last] - t0);
      await sleep(5);
    }
    const foreignS = foreign();
    await stop();
    ctx.record({ workload: steps === 5 ? 'hops' : `chain${steps}`, variant: next ? 'longpoll_next' : 'longpoll', rep, longpollers: POLLERS,
      chains, steps, task_ms: taskMs, hop_ms: summarize(hops), complete_to_next_in_hand_ms: summarize(fromComplete),
      trigger_to_last_start_ms: summarize(totals), flow_total_ms: summarize(totals.map((x) => x + taskMs)), foreign_cpu_s: foreignS });
  });
}
