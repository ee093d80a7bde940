#!/usr/bin/env node
// A focused look at the lease hot path, complementing run.mjs: sequential operations (no concurrency, so the
// figures are per-operation latencies and statement counts, steady even on a busy machine).
//
//   node bench/probe-hot-path.mjs [--ref=GITREF] [--no-build] [--drop-event-triggers] [--n=300] [--only=LIST] [--sched] [--prof=DIR]
//
// For each of: trigger a one-task run (no waiting worker), dispatch (trigger with one worker waiting in a long
// poll → task in hand), lease + complete with one worker (queue prefilled), the completion that evaluates (head of a
// 3-task chain, leased beforehand; also the service's and PostgreSQL's CPU per completion), the head of a
// 1,000-task chain, it prints the median and p90 latency and the statements the service sent per operation, with
// the most frequent ones. --only picks probes: trigger, dispatch, lease, evaluate, chain. --drop-event-triggers drops the
// events-outbox triggers (migration events_outbox) from the fresh database, to tell their cost apart. --sched: one
// scheduler tick creating and starting 1,000 runs instead, with the time each statement took.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/flags.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const argv = parseFlags();
const N = Number(argv.n ?? 300);
/** --only=trigger,dispatch,lease,evaluate,chain: those probes only. */
const want = (name) => !argv.only || String(argv.only).split(',').includes(name);
if (argv['drop-event-triggers']) process.env.WEFT_BENCH_DROP_EVENT_TRIGGERS = '1';

const { prepareBuild } = await import('./lib/build.mjs');
const build = prepareBuild(ROOT, { ref: argv.ref === undefined ? undefined : String(argv.ref), build: !argv['no-build'] });
process.env.WEFT_BENCH_BUILD = build.dir;
const db = await import('./lib/db.mjs');
const { startService } = await import('./lib/service.mjs');
const { weftApi } = await import('./lib/http.mjs');
const { dbBackendsCpu, foreignCpu } = await import('./lib/proc.mjs');
const { SERVICE_ENV, dagDoc, independentTasks, noop, now, sleep } = await import('./workloads/common.mjs');

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return +s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(2); };

async function withProbeService(fn) {
  const fresh = await db.freshDb();
  const sql = await db.client(fresh.url);
  const svc = await startService(fresh.url, { env: SERVICE_ENV, cpuProfDir: argv.prof ? String(argv.prof) : undefined });
  const api = weftApi(svc.url, { maxSockets: 16, apiKey: SERVICE_ENV.WEFT_ADMIN_API_KEY });
  const keyRes = await api.post('/api/v1/apiKeys', { name: 'probe', role: 'worker' });
  const worker = keyRes.status < 300 && keyRes.body?.key ? weftApi(svc.url, { maxSockets: 16, apiKey: keyRes.body.key }) : api;
  try {
    return await fn({ svc, api, worker, sql, dbName: fresh.name });
  } finally {
    api.close();
    worker.close();
    await sql.end().catch(() => undefined);
    await svc.close();
    await fresh.drop();
  }
}

async function measure(label, svc, n, op, dbName) {
  for (let i = 0; i < 20; i++) await op(-1 - i); // warm-up
  await svc.call('queries');
  const foreign = foreignCpu();
  const pgCpu = dbName ? dbBackendsCpu(dbName) : null;
  const svcCpu0 = svc.cpuS();
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await op(i);
    ms.push(now() - t0);
  }
  const cpu = dbName ? { service_cpu_ms_per_op: +(((svc.cpuS() - svcCpu0) * 1000) / n).toFixed(3), pg_cpu_ms_per_op: +((pgCpu() * 1000) / n).toFixed(3) } : {};
  const q = await svc.call('queries');
  const out = { probe: label, n, p50_ms: pct(ms, 0.5), p90_ms: pct(ms, 0.9), statements_per_op: +(q.total / n).toFixed(2), ...cpu, foreign_cpu_s: foreign() };
  console.log(JSON.stringify(out));
  for (const [text, count] of q.top.slice(0, 12)) {
    console.log(`    ${(count / n).toFixed(2).padStart(6)} × ${((q.ms?.[text] ?? 0) / count).toFixed(2).padStart(6)} ms  ${text}`);
  }
  return out;
}

let seq = 0;
const logicalDate = () => new Date(Date.UTC(2020, 0, 1) + ++seq * 1000).toISOString();

/** One scheduler tick that creates and starts 1,000 runs of a 5-task chain (workload 1's first figure), with its statements. */
async function dueRunsTick() {
  await withProbeService(async ({ svc, api }) => {
    const { chainTasks, hourNow, hoursBefore } = await import('./workloads/common.mjs');
    const at = hourNow();
    await api.registerDag(dagDoc('warm', chainTasks(5), { schedule: '@hourly', startDate: hoursBefore(at, 20), maxActiveRuns: 20 }));
    await svc.call('tick', { now: at.toISOString() });
    await api.registerDag(dagDoc('due', chainTasks(5), { schedule: '@hourly', startDate: hoursBefore(at, 1000), maxActiveRuns: 1000 }));
    await svc.call('queries');
    const r = await svc.call('tick', { now: at.toISOString() });
    const q = await svc.call('queries');
    console.log(JSON.stringify({ probe: 'tick: 1,000 due runs × 5 tasks created and started', ms: +r.ms.toFixed(1), created: r.created, statements: q.total }));
    for (const [text, count] of q.top.slice(0, 14)) console.log(`    ${String(count).padStart(6)} × ${((q.ms?.[text] ?? 0) / count).toFixed(2).padStart(7)} ms  ${text}`);
  });
}

try {
  if (argv.sched) {
    await dueRunsTick();
    process.exit(0);
  }
  console.error(`probe: ${build.info.source} ${build.info.ref ?? ''} ${build.info.commit}${argv['drop-event-triggers'] ? ', events triggers dropped' : ''}`);
  if (want('trigger')) await withProbeService(async ({ svc, api, dbName }) => {
    await api.registerDag(dagDoc('trig', [noop('only')], { maxActiveRuns: 1000 }));
    // At most 980 (+20 for the warm-up): every run starts.
    await measure('trigger (one-task run, nobody waiting)', svc, Math.min(N, 980), async () => {
      const r = await api.post('/api/v1/dags/trig/dagRuns', { logicalDate: logicalDate() });
      if (r.status >= 300) throw new Error(`trigger → ${r.status}`);
    }, dbName);
  });
  if (want('dispatch')) await withProbeService(async ({ svc, api, worker }) => {
    await api.registerDag(dagDoc('lat', [noop('only')], { maxActiveRuns: 1000 }));
    await measure('dispatch (trigger → task in a waiting worker\'s hands, then complete)', svc, N, async () => {
      const waiting = worker.lease('p0', { queues: ['lat'], capacity: 1, waitSeconds: 5 });
      await sleep(2);
      await api.post('/api/v1/dags/lat/dagRuns', { logicalDate: logicalDate() });
      const [l] = await waiting;
      if (!l) throw new Error('no lease');
      await worker.complete(l.leaseId);
    });
  });
  if (want('lease')) await withProbeService(async ({ svc, api, worker }) => {
    await api.registerDag(dagDoc('lc', independentTasks(20), { maxActiveRuns: 1000 }));
    for (let i = 0; i < Math.ceil((N + 40) / 20); i++) await api.post('/api/v1/dags/lc/dagRuns', { logicalDate: logicalDate() });
    await measure('lease + complete (one worker, queue prefilled)', svc, N, async () => {
      const [l] = await worker.lease('w0', { queues: ['lc'], capacity: 1, waitSeconds: 0 });
      if (!l) throw new Error('no lease');
      await worker.complete(l.leaseId);
    });
  });
  if (want('evaluate')) await withProbeService(async ({ svc, api, worker, dbName }) => {
    // The head of a 3-task chain completes (leased beforehand): the completion that evaluates, one task queued.
    // In a pool of their own, with room for every head leased at once.
    const M = Math.min(N, 900);
    await api.post('/api/v1/pools', { name: 'three', slots: M + 100 });
    await api.registerDag(dagDoc('three', [noop('t0'), noop('t1', ['t0']), noop('t2', ['t1'])], { maxActiveRuns: M + 100, maxActiveTasks: M + 100, defaultArgs: { queue: 'three', pool: 'three' } }));
    for (let i = 0; i < M + 20; i++) await api.post('/api/v1/dags/three/dagRuns', { logicalDate: logicalDate() });
    const heads = [];
    while (heads.length < M + 20) {
      const got = await worker.lease('w1', { queues: ['three'], capacity: 100, waitSeconds: 0 });
      if (!got.length) throw new Error('no lease');
      heads.push(...got);
    }
    let next = 0;
    await measure('complete the head of a 3-task chain (leased before; evaluation, one task queued)', svc, M, async () => {
      await worker.complete(heads[next++].leaseId);
    }, dbName);
  });
  if (want('chain')) await withProbeService(async ({ svc, api, worker }) => {
    // The head of a 1,000-task chain completes: its downstream (one task) is evaluated in the run of 1,000.
    await api.registerDag(dagDoc('chain', Array.from({ length: 1000 }, (_, i) => noop(`c${i}`, i ? [`c${i - 1}`] : [])), { maxActiveRuns: 1000 }));
    const runs = Math.min(N, 60);
    for (let i = 0; i < runs + 20; i++) await api.post('/api/v1/dags/chain/dagRuns', { logicalDate: logicalDate() });
    await measure('complete the head of a 1,000-task chain (evaluation, one task queued)', svc, runs, async () => {
      const [l] = await worker.lease('w1', { queues: ['chain'], capacity: 1, waitSeconds: 0 });
      if (!l) throw new Error('no lease');
      await worker.complete(l.leaseId);
    });
  });
} finally {
  build.cleanup();
  await db.dropAll();
}
