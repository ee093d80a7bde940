import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0', 'on', 'off']).transform((v) => v === 'true' || v === '1' || v === 'on');

/** ~/.weft for a user; /var/lib/weft for root, whose home the embedded PostgreSQL (run as `postgres`) cannot enter. */
function defaultHome(): string {
  return process.getuid?.() === 0 ? '/var/lib/weft' : join(homedir(), '.weft');
}

/** Every setting Weft reads from the environment, with laptop-friendly defaults (docs/configuration.md). */
const schema = z.object({
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_POOL_SIZE: int(1, 200).default(10),
  WEFT_HOME: z.string().min(1).default(defaultHome()),
  WEFT_EMBEDDED_PG_PORT: int(1, 65535).default(54329),
  WEFT_DAGS_FOLDER: z.string().min(1).optional(),
  WEFT_DAGS_FOLDER_INTERVAL_SEC: int(1, 86400).default(30),
  WEFT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WEFT_LOG_PRETTY: bool.optional(),
  WEFT_BODY_LIMIT_BYTES: int(1024, 64 * 1024 * 1024).default(2 * 1024 * 1024),
  WEFT_LEASE_TTL_SEC: int(5, 3600).default(60),
  WEFT_HEARTBEAT_INTERVAL_SEC: int(1, 1200).default(15),
  WEFT_LEASE_MAX_WAIT_SEC: int(0, 30).default(30),
  WEFT_MAX_XCOM_BYTES: int(16, 16 * 1024 * 1024).default(64 * 1024),
  WEFT_QUEUED_TIMEOUT_SEC: int(0, 30 * 86400).default(3600),
  WEFT_QUEUED_TIMEOUT_FAIL: bool.default(false),
  WEFT_API_URL: z.url({ protocol: /^https?$/ }).optional(),
  WEFT_API_KEY: z.string().min(1).optional(),
  WEFT_BUILTIN_WORKER: bool.default(true),
  WEFT_WORKER_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,250}$/).optional(),
  WEFT_WORKER_QUEUES: z.string().regex(/^[A-Za-z0-9_.-]{1,250}(,[A-Za-z0-9_.-]{1,250})*$/, 'a comma-separated list of queue names').default('default'),
  WEFT_WORKER_CONCURRENCY: int(1, 1000).default(4),
  WEFT_WORKER_SHUTDOWN_GRACE_SEC: int(0, 3600).default(30),
  WEFT_BACKFILL_MAX_RUNS: int(1, 1_000_000).default(10_000),
  WEFT_SMTP_HOST: z.string().min(1).optional(),
  WEFT_SMTP_PORT: int(1, 65535).default(587),
  WEFT_SMTP_SECURE: bool.default(false),
  WEFT_SMTP_USER: z.string().min(1).optional(),
  WEFT_SMTP_PASSWORD: z.string().min(1).optional(),
  WEFT_SMTP_FROM: z.string().min(3).default('Weft <weft@localhost>'),
  WEFT_AUTH: z.enum(['on', 'off']).default('on'),
  WEFT_ADMIN_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  WEFT_RATE_LIMIT_PER_SEC: z.coerce.number().min(0).max(1_000_000).default(500),
  WEFT_RATE_LIMIT_BURST: int(1, 1_000_000).default(1000),
  WEFT_MAX_POLLS_PER_WORKER: int(1, 1000).default(8),
  WEFT_MAX_JSON_DEPTH: int(2, 1000).default(64),
  WEFT_SCHEDULER_TICK_MS: int(10, 3_600_000).default(1000),
  WEFT_SCHEDULER_DAGS_PER_TICK: int(1, 100_000).default(1000),
  WEFT_SCHEDULER_RUNS_PER_DAG_PER_TICK: int(1, 100_000).default(1000),
});

export type Config = {
  port: number;
  host: string;
  /** Unset: Weft starts its embedded PostgreSQL under `home`. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  home: string;
  embeddedPgPort: number;
  dagsFolder: string | undefined;
  dagsFolderIntervalSec: number;
  logLevel: z.infer<typeof schema>['WEFT_LOG_LEVEL'];
  logPretty: boolean;
  bodyLimitBytes: number;
  leaseTtlSec: number;
  heartbeatIntervalSec: number;
  leaseMaxWaitSec: number;
  maxXcomBytes: number;
  /** Where `weft worker` finds the API; `weft start` uses its own port. */
  apiUrl: string | undefined;
  /** Bearer key the built-in worker sends (a worker-role key once authentication is on). */
  apiKey: string | undefined;
  /** Run the built-in worker inside `weft start`. */
  builtinWorker: boolean;
  workerId: string | undefined;
  workerQueues: string[];
  workerConcurrency: number;
  workerShutdownGraceSec: number;
  /** 0 = off. */
  queuedTimeoutSec: number;
  queuedTimeoutFail: boolean;
  backfillMaxRuns: number;
  /** WEFT_AUTH=off: no API keys (local experiments only; logged loudly). */
  authEnabled: boolean;
  adminApiKey: string | undefined;
  rateLimitPerSec: number;
  rateLimitBurst: number;
  maxPollsPerWorker: number;
  maxJsonDepth: number;
  /** Email alerts; without a host, email callbacks fail with a clear error. */
  smtp: { host?: string; port: number; secure: boolean; user?: string; password?: string; from: string };
  schedulerTickMs: number;
  schedulerDagsPerTick: number;
  schedulerRunsPerDagPerTick: number;
};

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`);
  }
}

/** Reads and validates the environment once at start; a bad value names its variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as in most shells' `FOO= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0]), message: i.message })));
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    host: c.HOST,
    databaseUrl: c.DATABASE_URL,
    databasePoolSize: c.DATABASE_POOL_SIZE,
    home: c.WEFT_HOME,
    embeddedPgPort: c.WEFT_EMBEDDED_PG_PORT,
    dagsFolder: c.WEFT_DAGS_FOLDER,
    dagsFolderIntervalSec: c.WEFT_DAGS_FOLDER_INTERVAL_SEC,
    logLevel: c.WEFT_LOG_LEVEL,
    logPretty: c.WEFT_LOG_PRETTY ?? Boolean(process.stdout.isTTY),
    bodyLimitBytes: c.WEFT_BODY_LIMIT_BYTES,
    leaseTtlSec: c.WEFT_LEASE_TTL_SEC,
    heartbeatIntervalSec: c.WEFT_HEARTBEAT_INTERVAL_SEC,
    leaseMaxWaitSec: c.WEFT_LEASE_MAX_WAIT_SEC,
    maxXcomBytes: c.WEFT_MAX_XCOM_BYTES,
    apiUrl: c.WEFT_API_URL,
    apiKey: c.WEFT_API_KEY,
    builtinWorker: c.WEFT_BUILTIN_WORKER,
    workerId: c.WEFT_WORKER_ID,
    workerQueues: c.WEFT_WORKER_QUEUES.split(','),
    workerConcurrency: c.WEFT_WORKER_CONCURRENCY,
    workerShutdownGraceSec: c.WEFT_WORKER_SHUTDOWN_GRACE_SEC,
    queuedTimeoutSec: c.WEFT_QUEUED_TIMEOUT_SEC,
    queuedTimeoutFail: c.WEFT_QUEUED_TIMEOUT_FAIL,
    backfillMaxRuns: c.WEFT_BACKFILL_MAX_RUNS,
    authEnabled: c.WEFT_AUTH === 'on',
    adminApiKey: c.WEFT_ADMIN_API_KEY,
    rateLimitPerSec: c.WEFT_RATE_LIMIT_PER_SEC,
    rateLimitBurst: c.WEFT_RATE_LIMIT_BURST,
    maxPollsPerWorker: c.WEFT_MAX_POLLS_PER_WORKER,
    maxJsonDepth: c.WEFT_MAX_JSON_DEPTH,
    smtp: {
      host: c.WEFT_SMTP_HOST,
      port: c.WEFT_SMTP_PORT,
      secure: c.WEFT_SMTP_SECURE,
      user: c.WEFT_SMTP_USER,
      password: c.WEFT_SMTP_PASSWORD,
      from: c.WEFT_SMTP_FROM,
    },
    schedulerTickMs: c.WEFT_SCHEDULER_TICK_MS,
    schedulerDagsPerTick: c.WEFT_SCHEDULER_DAGS_PER_TICK,
    schedulerRunsPerDagPerTick: c.WEFT_SCHEDULER_RUNS_PER_DAG_PER_TICK,
  };
}

/** Nest injection token for the validated Config. */
export const CONFIG = Symbol('CONFIG');
