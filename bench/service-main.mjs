// The Weft service under test, in its own process (so its CPU time and RSS are its own): the BUILT app (dist/
// of the bench's build snapshot, lib/build.mjs), listening on a loopback port, scheduler loop off (the bench drives ticks with a fixed "now").
// Started by lib/service.mjs with an IPC channel; answers { id, cmd, args } with { id, ok, result | error }.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { buildPath, fromBuild } from './lib/weft.mjs';

// As bin/weft.js does: V8's young generation held at its initial size while the app loads and boots (releaseBootMemory
// below). A build of an older commit (--ref) may not have these functions: V8's own heuristics then.
const heap = await fromBuild('dist/common/heap.js').catch(() => null);
heap?.holdYoungGeneration?.();
const { createApp } = await fromBuild('dist/bootstrap.js');
const { loadConfig } = await fromBuild('dist/config/config.js');
const { createLogger } = await fromBuild('dist/logging/logger.js');
const { SchedulerService } = await fromBuild('dist/scheduler/scheduler.service.js');
const { CreateDueRunsJob } = await fromBuild('dist/scheduler/create-due-runs.job.js');

// Count the SQL statements the service sends (the pg the service itself loads, resolved from dist/): the
// number of round trips per operation is what its latency and CPU cost mostly follow.
const pgClient = createRequire(buildPath('dist/bootstrap.js'))('pg').Client;
const sent = new Map();
/** Milliseconds from send to result, per statement (bench/probe-hot-path.mjs shows them). */
const took = new Map();
const originalQuery = pgClient.prototype.query;
/** Statement text → its key (first 60 characters, whitespace collapsed), made once per distinct text: the service's
 * SQL texts are constants, and a regular expression over each statement sent cost the service ~0.01 ms a statement. */
const statementKeys = new Map();
const keyOf = (text) => {
  let key = statementKeys.get(text);
  if (key === undefined) {
    key = text.trim().replace(/\s+/g, ' ').slice(0, 60);
    if (statementKeys.size < 10000) statementKeys.set(text, key);
  }
  return key;
};
pgClient.prototype.query = function countedQuery(config, ...rest) {
  const text = typeof config === 'string' ? config : config?.text;
  if (!text) return originalQuery.call(this, config, ...rest);
  const key = keyOf(text);
  sent.set(key, (sent.get(key) ?? 0) + 1);
  const t0 = performance.now();
  const result = originalQuery.call(this, config, ...rest);
  if (result && typeof result.then === 'function') {
    result.then(() => took.set(key, (took.get(key) ?? 0) + performance.now() - t0), () => undefined);
  }
  return result;
};

const config = loadConfig({
  HOST: '127.0.0.1',
  PORT: '0',
  WEFT_LOG_LEVEL: process.env.WEFT_LOG_LEVEL ?? 'warn',
  WEFT_LOG_PRETTY: 'false',
  WEFT_BUILTIN_WORKER: 'false',
  // One tick may create every due interval of a DAG (the 1,000- and 10,000-run workloads).
  WEFT_SCHEDULER_RUNS_PER_DAG_PER_TICK: '10000',
  ...JSON.parse(process.env.WEFT_BENCH_ENV ?? '{}'),
});
// As the `weft` command does (src/cli/main.ts): WEFT_HEAP_GROWING_PERCENT's fixed heap growing factor.
heap?.applyHeapGrowingPercent(config.heapGrowingPercent);
const app = await createApp({
  config,
  databaseUrl: process.env.DATABASE_URL,
  logger: createLogger(config.logLevel, false),
  watchDagsFolder: false,
  runScheduler: false,
});
// Seed the admin key as `weft start` does (services that have API keys; WEFT_ADMIN_API_KEY comes from the bench).
const keys = await fromBuild('dist/auth/api-keys.service.js').catch(() => null);
if (keys && config.authEnabled && config.adminApiKey) await app.get(keys.ApiKeysService).ensureAdminKey(config.adminApiKey, config.home);
heap?.releaseBootMemory?.();
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.getHttpServer().address();

const commands = {
  cpu: () => ({ ...process.cpuUsage(), rss: process.memoryUsage().rss }),
  /** process.memoryUsage() in MB, after a full GC when the process runs with --expose-gc (bench/probe-memory.mjs). */
  mem: () => {
    globalThis.gc?.();
    return Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, Math.round(v / 1048576)]));
  },
  /** Statements sent since the last reset: total and the most frequent, by their first 60 characters. */
  queries: ({ reset = true } = {}) => {
    const total = [...sent.values()].reduce((a, b) => a + b, 0);
    const top = [...sent].sort((a, b) => b[1] - a[1]).slice(0, 40);
    const ms = Object.fromEntries(top.map(([key]) => [key, +(took.get(key) ?? 0).toFixed(2)]));
    if (reset) {
      sent.clear();
      took.clear();
    }
    return { total, top, ms };
  },
  tick: async ({ now }) => {
    const t0 = performance.now();
    const result = await app.get(SchedulerService).tick(new Date(now));
    return { ms: performance.now() - t0, ...result };
  },
  createDueRuns: async ({ now }) => {
    const t0 = performance.now();
    const created = await app.get(CreateDueRunsJob).run(new Date(now));
    return { ms: performance.now() - t0, created };
  },
  close: async () => {
    await app.close();
    setImmediate(() => process.exit(0));
    return true;
  },
};

process.on('message', async ({ id, cmd, args }) => {
  try {
    process.send({ id, ok: true, result: await commands[cmd](args ?? {}) });
  } catch (err) {
    process.send({ id, ok: false, error: String(err?.stack ?? err) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, port });
