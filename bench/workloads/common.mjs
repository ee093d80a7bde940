// Helpers shared by the Weft workloads: a fresh database with the service booted on it, DAG documents, time.
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

/** Runs `fn` with a fresh database, the service on it and an API client; tears all three down after. */
export async function withService(ctx, fn, opts = {}) {
  const db = await freshDb();
  const svc = await startService(db.url, { env: opts.env, cpuProfDir: opts.cpuProfDir });
  const api = weftApi(svc.url, { maxSockets: opts.maxSockets ?? 256 });
  const sql = await client(db.url);
  try {
    return await fn({ svc, api, sql, db });
  } finally {
    api.close();
    await sql.end().catch(() => undefined);
    await svc.close();
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
