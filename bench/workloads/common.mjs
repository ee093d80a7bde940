// Helpers shared by the Weft workloads: a fresh database with the service booted on it, DAG documents, time.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { client, freshDb } from '../lib/db.mjs';
import { weftApi } from '../lib/http.mjs';
import { startService } from '../lib/service.mjs';

export const now = () => performance.now();
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3600e3;

/** The current hour, so `tick(now)` sees exactly the intervals a DAG's startDate implies. */
export const hourNow = () => new Date(Math.floor(Date.now() / HOUR) * HOUR);
export const hoursBefore = (t, h) => new Date(t.getTime() - h * HOUR).toISOString();

/**
 * The service runs as in production, with API keys on (WEFT_AUTH defaults to on): setup calls use the admin key
 * the bench seeds, worker loops a worker-role key created over the API (the admin key on a service that has no
 * key API). The per-key rate limit is switched off: it would cap the load generator, not measure the service.
 */
// A secrets key of the run's own: without one the service would create `<WEFT_HOME>/secrets.key` on the machine.
export const SERVICE_ENV = {
  WEFT_ADMIN_API_KEY: `bench-admin-${randomBytes(16).toString('hex')}`,
  WEFT_RATE_LIMIT_PER_SEC: '0',
  WEFT_SECRETS_KEY: randomBytes(32).toString('base64'),
};

/**
 * Runs `fn` with a fresh database, the service on it and API clients (admin, worker); tears all down after.
 * opts.replicas: that many service processes on the one database (API replicas; `svcs`, `workers` per replica;
 * `svc`, `worker` are the first). opts.syncCommitOff: the database's synchronous_commit off (information only).
 */
export async function withService(ctx, fn, opts = {}) {
  const db = await freshDb();
  if (opts.syncCommitOff) {
    const admin = await client(db.url);
    await admin.query(`ALTER DATABASE ${db.name} SET synchronous_commit = off`).finally(() => admin.end());
  }
  const svcs = [];
  for (let i = 0; i < (opts.replicas ?? 1); i++) {
    svcs.push(await startService(db.url, { env: { ...SERVICE_ENV, ...opts.env }, cpuProfDir: i ? undefined : opts.cpuProfDir }));
  }
  const svc = svcs[0];
  const maxSockets = opts.maxSockets ?? 256;
  const api = weftApi(svc.url, { maxSockets, apiKey: SERVICE_ENV.WEFT_ADMIN_API_KEY });
  const keyRes = await api.post('/api/v1/apiKeys', { name: 'bench workers', role: 'worker' });
  const workerKey = keyRes.status < 300 && keyRes.body?.key ? keyRes.body.key : null;
  const workers = svcs.map((s, i) => (workerKey ? weftApi(s.url, { maxSockets, apiKey: workerKey }) : i ? weftApi(s.url, { maxSockets, apiKey: SERVICE_ENV.WEFT_ADMIN_API_KEY }) : api));
  const worker = workers[0];
  const sql = await client(db.url);
  try {
    return await fn({ svc, svcs, api, worker, workers, sql, db });
  } finally {
    api.close();
    for (const w of workers) if (w !== api) w.close();
    await sql.end().catch(() => undefined);
    for (const s of svcs) await s.close();
    await db.drop();
  }
}

export const noop = (taskId, dependsOn) => ({ taskId, type: 'noop', ...(dependsOn?.length ? { dependsOn } : {}) });

/** A linear DAG t0 → t1 → … of `n` no-op tasks. */
export const chainTasks = (n, name = (i) => `t${i}`) => Array.from({ length: n }, (_, i) => noop(name(i), i ? [name(i - 1)] : []));

/** `n` independent no-op tasks. */
export const independentTasks = (n) => Array.from({ length: n }, (_, i) => noop(`t${i}`));

/** One root with `n - 1` tasks downstream of it. */
export const fanOutTasks = (n) => [noop('root'), ...Array.from({ length: n - 1 }, (_, i) => noop(`leaf${i}`, ['root']))];

/** A DAG whose tasks go to a queue of its own name, so each workload leases only its own work. */
export const dagDoc = (dagId, tasks, extra = {}) => ({ dagId, defaultArgs: { queue: dagId }, tasks, ...extra });

/** Registers DAGs `concurrency` at a time (setup, not measured). */
export async function registerAll(api, docs, concurrency = 4) {
  let i = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (i < docs.length) await api.registerDag(docs[i++]);
  }));
}

export async function count(sql, text, params = []) {
  return (await sql.query(text, params)).rows[0].n;
}

/** Tasks per run of prefillQueue's DAG. */
export const TASKS_PER_RUN = 20;

/**
 * The throughput workload's queue: an hourly DAG `dagId` of 20 independent no-op tasks with `runs` runs due, all
 * created and started by one tick (limits out of the way), then VACUUM ANALYZE. Returns the tick's result.
 */
export async function prefillQueue({ svc, api, sql }, dagId, runs) {
  await api.setPoolSlots('default_pool', 1_000_000);
  const at = hourNow();
  await api.registerDag(dagDoc(dagId, independentTasks(TASKS_PER_RUN), {
    schedule: '@hourly', startDate: hoursBefore(at, runs), maxActiveRuns: Math.min(runs, 1000), maxActiveTasks: 10_000,
  }));
  const tick = await svc.call('tick', { now: at.toISOString() });
  const queued = await count(sql, `SELECT count(*)::int n FROM task_instances WHERE state = 'queued'`);
  if (queued !== runs * TASKS_PER_RUN) throw new Error(`prefill queued ${queued} of ${runs * TASKS_PER_RUN} tasks`);
  await sql.query('VACUUM ANALYZE');
  return tick;
}
