import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { ApiKeysService } from '../auth/api-keys.service.js';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { createApp } from '../bootstrap.js';
import { applyHeapGrowingPercent, releaseBootMemory, releaseYoungGeneration } from '../common/heap.js';
import { DagsService } from '../dags/dags.service.js';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { findOrphanedPostmaster, startEmbeddedPostgres, stopOrphanedPostmaster, type EmbeddedDatabase } from '../database/embedded.js';
import { migrate } from '../database/migrator.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import { createLogger } from '../logging/logger.js';
import { startOpsServer } from '../metrics/ops-server.js';
import { SchedulerService } from '../scheduler/scheduler.service.js';
import { createLocalWorker } from '../worker/create-worker.js';
import { CONSOLE_DIR } from '../console/console-static.js';
import { bannerLines, baseUrl, readyFields, type ReadyInfo } from './banner.js';
import { assertEmbeddedPgPortFree, assertPortFree, chooseEmbeddedPgPort, DataDirLock, PreflightError } from './preflight.js';
import { startupErrorLine } from './startup-error.js';
import type { LocalWorker } from '../worker/local-worker.js';

type Role = 'start' | 'api' | 'scheduler';

/** Resolves the database: DATABASE_URL when set, otherwise the embedded PostgreSQL under WEFT_HOME. */
async function openDatabase(config: Config, logger: Logger): Promise<{ url: string; embedded?: EmbeddedDatabase; description: string }> {
  if (config.databaseUrl) {
    logger.info({ database: redactUrl(config.databaseUrl) }, 'using PostgreSQL from DATABASE_URL');
    return { url: config.databaseUrl, description: redactUrl(config.databaseUrl) };
  }
  const port = await chooseEmbeddedPgPort(config.home, config.embeddedPgPort, (m) => logger.info(m));
  const embedded = await startEmbeddedPostgres(config.home, port, (m) => logger.info(m));
  return { url: embedded.url, embedded, description: `embedded PostgreSQL on 127.0.0.1:${port}` };
}

/**
 * Before anything is created (a database, an admin key): the data directory must not be in use by another Weft
 * process (when it holds the embedded database) and the HTTP port must be free. Each failure is one line on stderr
 * that names the setting to change, and exit code 1.
 */
async function preflight(config: Config, port: { value: number; setting: string } | undefined, logger: Logger): Promise<void> {
  try {
    const embedded = !config.databaseUrl;
    if (embedded) DataDirLock.assertFree(config.home);
    if (port) await assertPortFree(config.host, port.value, port.setting);
    // A PostgreSQL still running on the data directory that no Weft holds was left by a Weft process that was killed
    // (kill -9, OOM): it holds the data directory and its port until it is stopped, below.
    const orphan = embedded ? await findOrphanedPostmaster(config.home) : undefined;
    if (embedded && config.embeddedPgPort !== undefined && orphan?.port !== config.embeddedPgPort) await assertEmbeddedPgPortFree(config.embeddedPgPort);
    if (embedded) {
      // Released at exit (the lock removes its file); one left by a killed process is taken over.
      DataDirLock.acquire(config.home);
      // Holding the lock, before the embedded database's port is chosen (the orphan holds the remembered one).
      if (orphan) await stopOrphanedPostmaster(config.home, (m) => logger.warn(m)).catch((err: unknown) => exitWith((err as Error).message));
    }
  } catch (err) {
    if (err instanceof PreflightError) exitWith(err.message);
    throw err;
  }
}

/** Resolves once the lines logged so far are written (pino-pretty writes from a worker thread): before exit. */
function flushed(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

/** One line saying what is wrong, then exit 1 (no stack trace: the line says what to do). */
function exitWith(message: string): never {
  process.stderr.write(`weft: ${message}\n`);
  process.exit(1);
}

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

async function run(role: Role): Promise<void> {
  const t0 = performance.now();
  const config = loadConfig();
  applyHeapGrowingPercent(config.heapGrowingPercent);
  const logger = createLogger(config.logLevel, config.logPretty);
  const httpPort =
    role !== 'scheduler'
      ? { value: config.port, setting: 'PORT' }
      : config.schedulerHttpPort !== undefined
        ? { value: config.schedulerHttpPort, setting: 'WEFT_SCHEDULER_HTTP_PORT' }
        : undefined;
  await preflight(config, httpPort, logger);
  let db: Awaited<ReturnType<typeof openDatabase>>;
  try {
    db = await openDatabase(config, logger);
  } catch (err) {
    if (err instanceof PreflightError) exitWith(err.message);
    logger.error(err instanceof Error ? err.message : String(err));
    await flushed(logger);
    process.exit(1);
  }
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  let worker: LocalWorker | undefined;
  let opsServer: Server | undefined;
  let builtinKeyId: string | undefined;
  let ready: ReadyInfo | undefined;
  let draining = false;

  /** Past the grace (or on a second signal): stop the embedded database if there is one and exit 1. */
  const forceExit = async (reason: string) => {
    logger.error(reason);
    await Promise.race([db.embedded?.stop().catch(() => undefined), sleep(5000)]);
    await flushed(logger);
    process.exit(1);
  };

  /**
   * Graceful shutdown, in order: readiness red, waiting long polls answered empty and new ones refused, the
   * scheduler loop stopped between ticks (Lifecycle drain); the built-in worker finishes its tasks while the API
   * still takes their completions; requests in flight finish; the app closes; the embedded database goes last.
   */
  const drain = async (signal: string) => {
    const t = performance.now();
    const graceMs = config.shutdownGraceSec * 1000;
    const force = setTimeout(() => void forceExit(`shutdown took longer than WEFT_SHUTDOWN_GRACE_SEC=${config.shutdownGraceSec}; exiting anyway`), graceMs);
    logger.info({ signal, graceSec: config.shutdownGraceSec }, 'shutting down: draining');
    // The worker first stops leasing (it must not retry against this draining API), keeping 2 s of the grace.
    const workerStopped = worker?.stop(Math.min(config.workerShutdownGraceSec * 1000, Math.max(0, graceMs - 2000)));
    app?.get(Lifecycle).beginDrain();
    await Promise.all([
      workerStopped,
      app?.get(SchedulerService).drained(),
      // Time for a load balancer to see readiness red before this process stops serving.
      role !== 'scheduler' && config.shutdownReadinessDelaySec ? sleep(config.shutdownReadinessDelaySec * 1000) : undefined,
    ]);
    if (builtinKeyId) await app?.get(ApiKeysService).revoke(builtinKeyId).catch(() => undefined);
    await app?.get(Lifecycle).whenIdle();
    await new Promise((resolve) => (opsServer ? opsServer.close(resolve) : resolve(undefined)));
    await app?.close();
    // The embedded database goes last, after everything that uses it has stopped.
    await db.embedded?.stop();
    clearTimeout(force);
    logger.info({ ms: Math.round(performance.now() - t) }, 'stopped');
    await flushed(logger);
    process.exit(0);
  };
  const onSignal = (signal: string) => {
    if (draining) {
      void forceExit(`${signal} again while draining: stopping now`);
      return;
    }
    draining = true;
    drain(signal).catch((err: unknown) => forceExit(`shutdown failed: ${(err as Error).stack ?? String(err)}`));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  // `npm start` runs this process under `sh -c`: npm passes a SIGTERM on to that shell, which dies of it without
  // passing it on, and this process would run on, orphaned, holding its port and data directory. When the process
  // that started it is gone (it was re-parented), it drains as on SIGTERM.
  if (process.env.npm_lifecycle_event && process.platform !== 'win32') {
    const parent = process.ppid;
    const orphaned = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(orphaned);
      if (!draining) onSignal('SIGTERM (the npm script that started it ended)');
    }, 1000);
    orphaned.unref();
  }
  try {
    // One line per migration only at debug: a fresh database applies them all.
    const applied = await migrate(db.url, (m) => (m.startsWith('applied migration') ? logger.debug(m) : logger.warn(m)));
    logger.info({ applied: applied.length }, applied.length ? `database schema brought up to date (${applied.length} migration(s) applied)` : 'database schema is up to date');
    app = await createApp({ config, databaseUrl: db.url, logger, watchDagsFolder: role !== 'api', runScheduler: role !== 'api' });
    const dags = app.get(DagsService);
    const sealed = await dags.encryptPlaintextSecrets();
    if (sealed) logger.info({ versions: sealed }, 'encrypted webhook secrets stored in plaintext by an earlier version');
    const foreignKeys = await dags.foreignSecretKeyIds();
    if (foreignKeys.length) {
      logger.error(
        { keyIds: foreignKeys },
        'stored webhook secrets were encrypted with another secrets key: their deliveries will fail. Every process must have the same WEFT_SECRETS_KEY (docs/security.md#secrets)',
      );
    }
    const keys = app.get(ApiKeysService);
    let admin: ReadyInfo['admin'] = { kind: 'auth-off' };
    if (!config.authEnabled) {
      logger.warn('WEFT_AUTH=off: every endpoint is open to anyone who can reach this port. For local experiments only.');
    } else {
      const ensured = await keys.ensureAdminKey(config.adminApiKey, config.home);
      const file = join(config.home, 'admin-api-key');
      admin =
        ensured.key && ensured.file
          ? { kind: 'created', key: ensured.key, file: ensured.file }
          : config.adminApiKey
            ? { kind: 'seeded' }
            : existsSync(file)
              ? { kind: 'file', file }
              : { kind: 'elsewhere' };
    }
    // Booted: the memory the boot used goes back before the port opens (no request waits for the pause).
    releaseBootMemory();
    if (role !== 'scheduler') {
      await app.listen({ port: config.port, host: config.host });
      const { port } = app.getHttpServer().address() as { port: number };
      const info: ReadyInfo = {
        role,
        host: config.host,
        port,
        startupMs: Math.round(performance.now() - t0),
        home: resolve(config.home),
        database: db.description,
        console: existsSync(join(CONSOLE_DIR, 'index.html')),
        admin,
      };
      logger.info({ role, ...readyFields(info) }, `Weft ${role} ready on ${baseUrl(config.host, port)}`);
      ready = info;
    } else if (config.schedulerHttpPort !== undefined) {
      opsServer = await startOpsServer(app, config, config.schedulerHttpPort);
      logger.info({ port: config.schedulerHttpPort }, 'scheduler health and metrics on /health, /health/ready, /metrics');
    }
    if (role === 'start' && config.builtinWorker) {
      const { port } = app.getHttpServer().address() as { port: number };
      // The built-in worker authenticates like any worker: with WEFT_API_KEY, or a worker key of its own.
      let apiKey = config.apiKey;
      if (!apiKey && config.authEnabled) {
        const own = await keys.create({ name: `built-in worker ${hostname()}-${process.pid}`, role: 'worker' });
        apiKey = own.key;
        builtinKeyId = own.id;
      }
      worker = createLocalWorker({ ...config, apiKey }, `http://127.0.0.1:${port}`, logger);
      worker.start();
    }
    if (ready) {
      // The banner closes the start-up output: the log lines before it are written out first (pino-pretty writes
      // from a worker thread). The admin key just created is printed whatever the log format, this once.
      await flushed(logger);
      if (config.logPretty) process.stdout.write(`${bannerLines(ready).join('\n')}\n`);
      else if (ready.admin.kind === 'created') {
        process.stdout.write(`\nWeft admin API key (shown once, also written to ${ready.admin.file}):\n  ${ready.admin.key}\n\n`);
      }
    }
  } catch (err) {
    logger.error(startupErrorLine(err, db.description, !db.embedded));
    await app?.close().catch(() => undefined);
    await db.embedded?.stop().catch(() => undefined);
    await flushed(logger);
    process.exit(1);
  }
}

/** `weft worker`: needs only the API (WEFT_API_URL), never the database. */
async function runWorker(): Promise<void> {
  releaseYoungGeneration(); // not a server: nothing to give back (bin/weft.js held it while loading)
  const config = loadConfig();
  const logger = createLogger(config.logLevel, config.logPretty);
  const apiUrl = config.apiUrl ?? `http://127.0.0.1:${config.port}`;
  const worker = createLocalWorker(config, apiUrl, logger);
  const stop = async (signal: string) => {
    logger.info({ signal }, 'worker shutting down: no new leases, finishing running tasks');
    await worker.stop(config.workerShutdownGraceSec * 1000);
    await flushed(logger);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  logger.info({ apiUrl }, 'weft worker leasing from the API');
  worker.start();
  // A refused key (401/403) is logged by the worker with what to do; tasks it runs finish, then it exits 1.
  await worker.refused();
  await worker.stop(config.workerShutdownGraceSec * 1000);
  await flushed(logger);
  process.exit(1);
}

/** `weft kubernetes`: the launcher; needs the API (WEFT_API_URL) and a Kubernetes API, never the database. */
async function runKubernetes(): Promise<void> {
  releaseYoungGeneration(); // not a server: nothing to give back (bin/weft.js held it while loading)
  const config = loadConfig();
  const logger = createLogger(config.logLevel, config.logPretty);
  const apiUrl = config.apiUrl ?? `http://127.0.0.1:${config.port}`;
  // Loaded only for this role: the Kubernetes client costs ~1 s of CPU to import, which every other role would pay.
  const { createKubernetesLauncher } = await import('../kubernetes/create-launcher.js');
  const launcher = createKubernetesLauncher(config, apiUrl, logger);
  const stop = async (signal: string) => {
    logger.info({ signal }, 'kubernetes launcher shutting down: no new leases; running pods go on and are re-attached at the next start');
    await launcher.stop();
    await flushed(logger);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  logger.info({ apiUrl }, 'weft kubernetes leasing container tasks from the API');
  await launcher.start();
  // A refused key (401/403) is logged by the launcher with what to do; its pods go on, then it exits 1.
  await launcher.refused();
  await launcher.stop();
  await flushed(logger);
  process.exit(1);
}

async function migrateOnly(): Promise<void> {
  releaseYoungGeneration(); // not a server: nothing to give back (bin/weft.js held it while loading)
  const config = loadConfig();
  const logger = createLogger(config.logLevel, config.logPretty);
  await preflight(config, undefined, logger);
  const db = await openDatabase(config, logger);
  try {
    const applied = await migrate(db.url, (m) => logger.info(m));
    logger.info({ applied }, applied.length ? `applied ${applied.length} migration(s)` : 'database schema is up to date');
  } catch (err) {
    await db.embedded?.stop();
    await flushed(logger);
    exitWith(startupErrorLine(err, db.description, !db.embedded));
  } finally {
    await db.embedded?.stop();
  }
}

const program = new Command('weft').description('Weft workflow orchestrator').showHelpAfterError();
program.command('start').description('API + scheduler + built-in worker in one process (embedded database unless DATABASE_URL is set)').action(() => run('start'));
program.command('api').description('the HTTP API only').action(() => run('api'));
program.command('scheduler').description('the scheduler loop and the DAG-folder processor (no API; /health and /metrics only when WEFT_SCHEDULER_HTTP_PORT is set)').action(() => run('scheduler'));
program
  .command('worker')
  .description('the built-in local worker (shell, http, sql, noop) against the API at WEFT_API_URL')
  .action(runWorker);
program
  .command('kubernetes')
  .description('the Kubernetes launcher: runs container tasks leased from the API at WEFT_API_URL, one pod per attempt (docs/kubernetes.md)')
  .action(runKubernetes);
program.command('db').description('database tasks').command('migrate').description('apply pending migrations and exit').action(migrateOnly);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError || err instanceof PreflightError) exitWith(err.message);
  console.error(err);
  process.exit(1);
}
