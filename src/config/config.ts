import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ID_MESSAGE, ID_PATTERN, idError } from '../common/ids.js';
import { buildAddressPolicy, type AddressPolicy } from '../outbound/domain/address-policy.js';
import { SECRETS_KEY_PATTERN } from '../secrets/domain/secret-box.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0', 'on', 'off']).transform((v) => v === 'true' || v === '1' || v === 'on');

/** ~/.weft for a user; /var/lib/weft for root, whose home the embedded PostgreSQL (run as `postgres`) cannot enter. */
function defaultHome(): string {
  return process.getuid?.() === 0 ? '/var/lib/weft' : join(homedir(), '.weft');
}

/** A comma-separated list of queue names, each an id (common/ids.ts). */
const queueList = z.string().refine((v) => v.split(',').every((q) => ID_PATTERN.test(q)), `a comma-separated list of queue names, each ${ID_MESSAGE}, not only dots`);

/** A comma-separated list of CIDRs, addresses and range names, each checked by the address-policy parser. */
const addressList = z
  .string()
  .transform((v) => v.split(',').map((e) => e.trim()).filter((e) => e !== ''))
  .superRefine((entries, ctx) => {
    const result = buildAddressPolicy({ deny: entries });
    if (!result.ok) for (const message of result.errors) ctx.addIssue({ code: 'custom', message });
  });

/** Documentation of one variable; docs/configuration.md is generated from it (scripts/gen-config-doc.mjs). */
const doc = (description: string, defaultText?: string) => ({ description, ...(defaultText === undefined ? {} : { defaultText }) });

/**
 * Every setting Weft reads from the environment, with laptop-friendly defaults. The order and descriptions here
 * are the configuration reference (docs/configuration.md), so say what a value does and when to change it.
 */
const schema = z.object({
  PORT: int(0, 65535).default(8080).meta(doc('HTTP port of the API')),
  HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .meta(doc('address the API listens on: the loopback interface by default, so a development server is not reachable from the network; `0.0.0.0` (all IPv4 interfaces, as the container image sets) or `::` to serve other machines')),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/ })
    .optional()
    .meta(doc('PostgreSQL URL (`postgresql://user:pass@host:5432/db`). Unset: Weft starts its embedded PostgreSQL')),
  DATABASE_POOL_SIZE: int(1, 200).default(10).meta(doc('database connections per process (plus one for LISTEN)')),
  DATABASE_CONNECT_TIMEOUT_SEC: int(1, 600)
    .default(10)
    .meta(doc('give up opening a database connection after this long; requests then answer `503` instead of hanging')),
  DATABASE_LOCK_TIMEOUT_SEC: int(0, 3600)
    .default(10)
    .meta(doc('longest a statement waits for a lock (`lock_timeout`); past it the request answers `503` and is retried (a scheduler job, on its next tick) (`0` = wait forever)')),
  DATABASE_STATEMENT_TIMEOUT_SEC: int(0, 86400)
    .default(60)
    .meta(doc('longest one statement may run (`statement_timeout`; `0` = no limit)')),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SEC: int(0, 3600)
    .default(15)
    .meta(doc('PostgreSQL ends a session of this process that stays idle inside a transaction this long (`idle_in_transaction_session_timeout`), releasing its locks: bounds how long a frozen or cut-off Weft process can hold up others (`0` = never)')),
  DATABASE_TCP_KEEPALIVE_SEC: int(0, 3600)
    .default(30)
    .meta(doc('TCP keepalives on database connections, both ends: probes after this long idle, a dead peer dropped within about twice it; also bounds unacknowledged writes (`tcp_user_timeout`) (`0` = the operating system\'s defaults)')),
  WEFT_HOME: z
    .string()
    .min(1)
    .default(defaultHome())
    .meta(doc('data directory: the embedded database lives in `WEFT_HOME/pgdata`, the first admin key and the secrets key beside it', '`~/.weft` (`/var/lib/weft` as root)')),
  WEFT_EMBEDDED_PG_PORT: int(1, 65535)
    .optional()
    .meta(doc('port of the embedded PostgreSQL (loopback only); start-up stops with an error when it is taken', '`54329`, or a free port when that is taken (remembered in `WEFT_HOME/embedded-pg-port`)')),
  WEFT_DAGS_FOLDER: z.string().min(1).optional().meta(doc('folder of DAG files (`.json`, `.yaml`, `.yml`, searched recursively)')),
  WEFT_DAGS_FOLDER_INTERVAL_SEC: int(1, 86400)
    .default(30)
    .meta(doc('full re-parse interval of the DAG folder (changes are also picked up at once by a file watcher)')),
  WEFT_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .meta(doc('`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`; per-request lines appear at `debug`')),
  WEFT_LOG_PRETTY: bool.optional().meta(doc('human-readable logs instead of JSON lines', 'on when stdout is a terminal')),
  WEFT_BODY_LIMIT_BYTES: int(1024, 64 * 1024 * 1024)
    .default(2 * 1024 * 1024)
    .meta(doc('largest accepted request body; larger requests get `413` before parsing')),
  WEFT_LEASE_TTL_SEC: int(5, 3600).default(60).meta(doc('a lease expires this long after its last heartbeat')),
  WEFT_HEARTBEAT_INTERVAL_SEC: int(1, 1200).default(15).meta(doc('heartbeat interval told to workers')),
  WEFT_LEASE_MAX_WAIT_SEC: int(0, 30).default(30).meta(doc('longest a lease request may wait for work (long poll)')),
  WEFT_MAX_XCOM_BYTES: int(16, 16 * 1024 * 1024)
    .default(64 * 1024)
    .meta(doc('largest XCom map of one completion (JSON); larger is refused with `413`')),
  WEFT_MAX_MAP_LENGTH: int(1, 100_000)
    .default(1024)
    .meta(doc('most task instances one mapped task may expand to (`expand`); a longer list fails the task')),
  WEFT_TASK_LOG_MAX_BYTES_PER_TRY: int(0, 1024 * 1024 * 1024)
    .default(10 * 1024 * 1024)
    .meta(doc('log bytes kept per task try; beyond it the oldest lines are dropped and a marker line says how many (`0` = no cap)')),
  WEFT_QUEUED_TIMEOUT_SEC: int(0, 30 * 86400).default(3600).meta(doc('a task queued longer is reported (`0` = off)')),
  WEFT_QUEUED_TIMEOUT_FAIL: bool.default(false).meta(doc('fail such a task instead of only reporting it')),
  WEFT_API_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .meta(doc('API that `weft worker` leases from', '`http://127.0.0.1:$PORT`')),
  WEFT_API_KEY: z.string().min(1).optional().meta(doc('bearer key the worker sends (a `worker`-role key)')),
  WEFT_BUILTIN_WORKER: bool.default(true).meta(doc('run the built-in worker inside `weft start`')),
  WEFT_WORKER_ID: z
    .string()
    .regex(ID_PATTERN, { error: idError(ID_MESSAGE) })
    .optional()
    .meta(doc('id the built-in worker leases under', '`<hostname>-<pid>`')),
  WEFT_WORKER_QUEUES: queueList
    .default('default')
    .meta(doc('queues the built-in worker leases from (comma-separated)')),
  WEFT_WORKER_CONCURRENCY: int(1, 1000).default(4).meta(doc('tasks the built-in worker runs at once')),
  WEFT_WORKER_SHUTDOWN_GRACE_SEC: int(0, 3600)
    .default(30)
    .meta(doc('on SIGTERM the worker stops leasing and lets running tasks finish this long, then stops them (reported retryable)')),
  WEFT_SHUTDOWN_GRACE_SEC: int(1, 3600)
    .default(45)
    .meta(doc('on SIGTERM/SIGINT the whole process drains within this long and exits 0; past it, it exits 1 (keep it above the worker grace)')),
  WEFT_SHUTDOWN_READINESS_DELAY_SEC: int(0, 600)
    .default(0)
    .meta(doc('on SIGTERM, `/health/ready` answers `503` this long before the process stops serving, so a load balancer can take it out first')),
  WEFT_KUBERNETES_KUBECONFIG: z
    .string()
    .min(1)
    .optional()
    .meta(doc('`weft kubernetes`: a kubeconfig file, or `in-cluster` for the pod\'s service account ([kubernetes.md](kubernetes.md))', '`$KUBECONFIG`, then `~/.kube/config`, then in-cluster')),
  WEFT_KUBERNETES_LAUNCHER_ID: z
    .string()
    .max(63)
    .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'must be a Kubernetes label value (up to 63 letters, digits, "-", "_", ".")')
    .default('weft-launcher')
    .meta(doc('`weft kubernetes`: labels the pods this launcher creates; a restarted launcher with the same id re-attaches to them (one id per launcher)')),
  WEFT_KUBERNETES_NAMESPACES: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(,[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'a comma-separated list of namespace names')
    .default('default')
    .meta(doc('`weft kubernetes`: namespaces it may create pods in (comma-separated); the first is the default')),
  WEFT_KUBERNETES_QUEUES: queueList
    .default('default')
    .meta(doc('`weft kubernetes`: queues it leases container tasks from (comma-separated)')),
  WEFT_KUBERNETES_MAX_PODS: int(1, 10_000).default(16).meta(doc('`weft kubernetes`: most task pods it runs at once')),
  WEFT_KUBERNETES_POD_TEMPLATE_FILE: z
    .string()
    .min(1)
    .optional()
    .meta(doc('`weft kubernetes`: the cluster default pod template (YAML or JSON), merged under each DAG\'s and task\'s')),
  WEFT_KUBERNETES_STARTUP_TIMEOUT_SEC: int(1, 7 * 86400)
    .default(300)
    .meta(doc('`weft kubernetes`: a pod still Pending (unschedulable, image pull back-off …) this long fails its attempt with Kubernetes\' reason; a task\'s `startupTimeoutSec` overrides it')),
  WEFT_KUBERNETES_POD_TTL_SEC: int(0, 30 * 86400)
    .default(300)
    .meta(doc('`weft kubernetes`: finished pods are deleted this long after their attempt completed (`0` = at once)')),
  WEFT_KUBERNETES_KEEP_FAILED_PODS: bool.default(false).meta(doc('`weft kubernetes`: keep the pods of failed attempts (for `kubectl logs`/`describe`); delete them yourself')),
  WEFT_BACKFILL_MAX_RUNS: int(1, 1_000_000).default(10_000).meta(doc('most intervals one backfill may cover')),
  WEFT_SMTP_HOST: z.string().min(1).optional().meta(doc('SMTP server for email alerts ([alerts.md](alerts.md)); unset: email callbacks fail with a clear error')),
  WEFT_SMTP_PORT: int(1, 65535).default(587).meta(doc('SMTP port')),
  WEFT_SMTP_SECURE: bool.default(false).meta(doc('TLS from the start (port 465) instead of STARTTLS')),
  WEFT_SMTP_USER: z.string().min(1).optional().meta(doc('SMTP user')),
  WEFT_SMTP_PASSWORD: z.string().min(1).optional().meta(doc('SMTP password')),
  WEFT_SMTP_FROM: z.string().min(3).default('Weft <weft@localhost>').meta(doc('sender of alert emails')),
  WEFT_OUTBOUND_ALLOW: addressList
    .optional()
    .meta(doc('addresses that alert webhooks and Slack callbacks may reach although a default or `WEFT_OUTBOUND_DENY` entry denies them: comma-separated CIDRs, addresses or range names (`link-local`, `metadata`, `loopback`, `private`, `unspecified`, `multicast`, `reserved`); the most specific entry wins ([security.md](security.md#outbound-addresses))', 'none')),
  WEFT_OUTBOUND_DENY: addressList
    .optional()
    .meta(doc('addresses that alert webhooks and Slack callbacks may not reach, on top of the defaults (link-local, cloud metadata, `0.0.0.0/8`, multicast, `240.0.0.0/4`); e.g. `loopback,private` on a shared server', 'none (loopback and private ranges allowed)')),
  WEFT_HTTP_TASK_ALLOW: addressList
    .optional()
    .meta(doc('the same as `WEFT_OUTBOUND_ALLOW` for `http` tasks run by the built-in worker (enforced by each worker process; the API process checks task URLs at registration with its own values)', 'none')),
  WEFT_HTTP_TASK_DENY: addressList
    .optional()
    .meta(doc('the same as `WEFT_OUTBOUND_DENY` for `http` tasks run by the built-in worker', 'none (loopback and private ranges allowed)')),
  WEFT_AUTH: z.enum(['on', 'off']).default('on').meta(doc('`off` disables API keys (local experiments only; logged as a warning)')),
  WEFT_ADMIN_API_KEY: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .meta(doc('seeds the admin key (≥ 16 characters) instead of generating one at first start')),
  WEFT_SECRETS_KEY: z
    .string()
    .regex(SECRETS_KEY_PATTERN, 'must be 32 random bytes in base64 (44 characters), e.g. the output of `openssl rand -base64 32`')
    .optional()
    .meta(
      doc(
        'key (32 bytes, base64) that encrypts webhook secrets stored in the database ([security.md](security.md#secrets)); every replica must have the same one',
        'generated at first start into `WEFT_HOME/secrets.key`',
      ),
    ),
  WEFT_RATE_LIMIT_PER_SEC: z.coerce.number().min(0).max(1_000_000).default(500).meta(doc('requests per API key per second per replica (`0` = off)')),
  WEFT_RATE_LIMIT_BURST: int(1, 1_000_000).default(1000).meta(doc('burst allowance of the rate limit')),
  WEFT_API_KEY_CACHE_SEC: int(0, 3600).default(60).meta(doc('how long a replica trusts a looked-up API key without asking the database again (`0` = ask on every request); a revocation reaches every replica at once through NOTIFY, this bounds it only while a replica\'s LISTEN connection is down')),
  WEFT_MAX_POLLS_PER_WORKER: int(1, 1000).default(8).meta(doc('open lease requests per worker id per replica')),
  WEFT_GROUP_COMMIT_MAX_ITEMS: int(0, 1000)
    .default(64)
    .meta(doc('group commit (docs/performance.md): completions, and claims of one queue set, that arrive while one of theirs is in flight in this replica are served together as one statement when it ends, at most this many (`0` = off: each request on its own)')),
  WEFT_GROUP_COMMIT_IN_FLIGHT: int(1, 64)
    .default(1)
    .meta(doc('group commit: statements of one kind (completions; claims of one queue set) that may be in flight at once in this replica before requests queue for the next batch')),
  WEFT_HEAP_GROWING_PERCENT: int(0, 300)
    .default(50)
    .meta(doc('how far (in %) the `weft` process lets its JavaScript heap grow past what it kept alive before it collects again; bounds the memory of a busy replica (`0` = Node\'s own heuristics, which let it grow up to 4×)')),
  WEFT_MAX_JSON_DEPTH: int(2, 1000).default(64).meta(doc('deepest accepted JSON nesting')),
  WEFT_GRAPHQL_MAX_TOKENS: int(100, 1_000_000)
    .default(2000)
    .meta(doc('most tokens (names, punctuation, values) a GraphQL document may have; the parser stops there, so a huge document is refused before it is validated (the introspection query has about 180)')),
  WEFT_GRAPHQL_MAX_DEPTH: int(1, 100).default(12).meta(doc('deepest selection a GraphQL operation may have (introspection exempt); deeper is refused before it runs ([security.md](security.md#graphql-limits))')),
  WEFT_GRAPHQL_MAX_ALIASES: int(0, 10_000).default(20).meta(doc('most aliases in one GraphQL operation')),
  WEFT_GRAPHQL_MAX_COST: int(1, 100_000_000)
    .default(100_000)
    .meta(doc('cost budget of one GraphQL operation, about the number of values its answer can hold: each field costs 1 and a `limit` argument multiplies what the field selects; over it the operation is refused before it runs')),
  WEFT_GRAPHQL_DB_CONNECTIONS: int(1, 200)
    .default(3)
    .meta(doc('database connections one GraphQL request may hold at once (of `DATABASE_POOL_SIZE`), so that one request cannot take the whole pool')),
  WEFT_GRAPHQL_WS_MAX_SUBSCRIPTIONS: int(1, 100_000)
    .default(500)
    .meta(doc('most operations (subscriptions) one GraphQL WebSocket connection may have running at once; one more is refused with `TOO_MANY_SUBSCRIPTIONS` (the console follows at most about a hundred: a grid of 100 runs)')),
  WEFT_METRICS_PUBLIC: bool
    .default(true)
    .meta(doc('`/metrics` answers without an API key; `false` requires a key with role `viewer` or above ([operations.md](operations.md))')),
  WEFT_SCHEDULER_HTTP_PORT: int(0, 65535)
    .optional()
    .meta(doc('`weft scheduler` serves `/health`, `/health/ready` and `/metrics` on this port (unset: no HTTP)')),
  WEFT_SCHEDULER_TICK_MS: int(10, 3_600_000)
    .default(1000)
    .meta(doc('pause between scheduler ticks (each tick: create due runs, reap expired leases, requeue retries, check queued timeouts and SLAs, start queued runs)')),
  WEFT_WEBHOOK_POLL_MS: int(10, 3_600_000)
    .default(1000)
    .meta(doc('how often a scheduler looks for due state-change webhook deliveries when idle ([alerts.md](alerts.md#webhooks-for-state-changes))')),
  WEFT_WEBHOOK_DISABLE_AFTER_SEC: int(1, 30 * 86400)
    .default(86400)
    .meta(doc('a state-change webhook whose deliveries have all failed for this long is disabled, and that is logged, counted and audited')),
  WEFT_SCHEDULER_DAGS_PER_TICK: int(1, 100_000).default(1000).meta(doc('DAGs one tick creates runs for')),
  WEFT_SCHEDULER_RUNS_PER_DAG_PER_TICK: int(1, 100_000)
    .default(1000)
    .meta(doc('runs created per DAG per tick (a longer catch-up continues on the next tick)')),
  WEFT_RETENTION_RUNS_DAYS: int(0, 36500)
    .default(0)
    .meta(doc('delete finished runs (with their task instances, tries, logs, XCom and SLA misses) that ended more than this many days ago (`0` = keep)')),
  WEFT_RETENTION_TASK_TRIES_DAYS: int(0, 36500).default(0).meta(doc('delete the history rows of attempts that ended more than this many days ago (`0` = keep)')),
  WEFT_RETENTION_TASK_LOGS_DAYS: int(0, 36500).default(0).meta(doc('delete task log lines older than this many days (`0` = keep)')),
  WEFT_RETENTION_XCOM_DAYS: int(0, 36500).default(0).meta(doc('delete XCom values written more than this many days ago (`0` = keep)')),
  WEFT_RETENTION_DATASET_EVENTS_DAYS: int(0, 36500).default(0).meta(doc('delete dataset events older than this many days (`0` = keep)')),
  WEFT_RETENTION_AUDIT_DAYS: int(0, 36500).default(0).meta(doc('delete audit-log entries older than this many days (`0` = keep)')),
  WEFT_RETENTION_EVENTS_DAYS: int(0, 36500)
    .default(7)
    .meta(doc('delete subscription events (the outbox behind GraphQL subscriptions; `afterSequence` can replay only what is kept) and finished (delivered or rejected) webhook deliveries older than this many days (`0` = keep)')),
  WEFT_RETENTION_INTERVAL_SEC: int(60, 7 * 86400).default(3600).meta(doc('pause between two retention clean-ups of a scheduler, from the end of one to the start of the next; the first runs at start (one scheduler at a time)')),
  WEFT_RETENTION_BATCH_SIZE: int(1, 100_000).default(1000).meta(doc('rows deleted per statement by the clean-up; runs go a hundredth as many at a time, since each takes its task instances, logs and XCom with it')),
});

/** The environment schema, for the generated configuration reference (scripts/gen-config-doc.mjs). */
export const CONFIG_SCHEMA = schema;

export type Config = {
  port: number;
  host: string;
  /** Unset: Weft starts its embedded PostgreSQL under `home`. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  databaseConnectTimeoutSec: number;
  /** Server-side bounds on this process's sessions (database/pool.ts); 0 = off. */
  databaseLockTimeoutSec: number;
  databaseStatementTimeoutSec: number;
  databaseIdleInTransactionTimeoutSec: number;
  databaseTcpKeepaliveSec: number;
  home: string;
  /** WEFT_EMBEDDED_PG_PORT; undefined: the remembered port, 54329, or a free one (cli/embedded-port.ts). */
  embeddedPgPort: number | undefined;
  dagsFolder: string | undefined;
  dagsFolderIntervalSec: number;
  logLevel: z.infer<typeof schema>['WEFT_LOG_LEVEL'];
  logPretty: boolean;
  bodyLimitBytes: number;
  leaseTtlSec: number;
  heartbeatIntervalSec: number;
  leaseMaxWaitSec: number;
  maxXcomBytes: number;
  /** Most instances a mapped task expands to. */
  maxMapLength: number;
  /** 0 = no cap. */
  taskLogMaxBytesPerTry: number;
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
  shutdownGraceSec: number;
  shutdownReadinessDelaySec: number;
  /** 0 = off. */
  queuedTimeoutSec: number;
  queuedTimeoutFail: boolean;
  backfillMaxRuns: number;
  /** WEFT_AUTH=off: no API keys (local experiments only; logged loudly). */
  authEnabled: boolean;
  adminApiKey: string | undefined;
  /** Base64 key encrypting stored secrets; undefined: `<home>/secrets.key`, created on first start. */
  secretsKey: string | undefined;
  /** 0 = no cache. */
  apiKeyCacheSec: number;
  rateLimitPerSec: number;
  rateLimitBurst: number;
  maxPollsPerWorker: number;
  /** WEFT_GROUP_COMMIT_MAX_ITEMS; 0 = every completion and claim on its own. */
  groupCommitMaxItems: number;
  /** WEFT_GROUP_COMMIT_IN_FLIGHT. */
  groupCommitInFlight: number;
  maxJsonDepth: number;
  graphql: { maxTokens: number; maxDepth: number; maxAliases: number; maxCost: number; dbConnectionsPerRequest: number; wsMaxSubscriptions: number };
  /** WEFT_HEAP_GROWING_PERCENT: applied by the `weft` command (applyHeapGrowingPercent); 0 = V8's heuristics. */
  heapGrowingPercent: number;
  /** Email alerts; without a host, email callbacks fail with a clear error. */
  smtp: { host?: string; port: number; secure: boolean; user?: string; password?: string; from: string };
  /** Outbound-address policies (outbound/domain/address-policy.ts): alert callbacks, and http tasks of the built-in worker. */
  outbound: { callbacks: AddressPolicy; httpTasks: AddressPolicy };
  metricsPublic: boolean;
  /** `weft scheduler` serves health and metrics here; undefined = no HTTP. */
  schedulerHttpPort: number | undefined;
  schedulerTickMs: number;
  /** State-change webhooks (src/webhooks). */
  webhooks: { pollMs: number; disableAfterSec: number };
  schedulerDagsPerTick: number;
  schedulerRunsPerDagPerTick: number;
  /** Days to keep each kind of history; 0 = keep forever. */
  retention: RetentionConfig;
  /** `weft kubernetes` (docs/kubernetes.md). */
  kubernetes: KubernetesConfig;
};

export type KubernetesConfig = {
  /** A kubeconfig path, `in-cluster`, or undefined for client-node's default search. */
  kubeconfig: string | undefined;
  launcherId: string;
  namespaces: string[];
  queues: string[];
  maxPods: number;
  podTemplateFile: string | undefined;
  startupTimeoutSec: number;
  podTtlSec: number;
  keepFailedPods: boolean;
};

export type RetentionConfig = {
  runsDays: number;
  taskTriesDays: number;
  taskLogsDays: number;
  xcomDays: number;
  datasetEventsDays: number;
  auditDays: number;
  eventsDays: number;
  intervalSec: number;
  batchSize: number;
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
    databaseConnectTimeoutSec: c.DATABASE_CONNECT_TIMEOUT_SEC,
    databaseLockTimeoutSec: c.DATABASE_LOCK_TIMEOUT_SEC,
    databaseStatementTimeoutSec: c.DATABASE_STATEMENT_TIMEOUT_SEC,
    databaseIdleInTransactionTimeoutSec: c.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SEC,
    databaseTcpKeepaliveSec: c.DATABASE_TCP_KEEPALIVE_SEC,
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
    maxMapLength: c.WEFT_MAX_MAP_LENGTH,
    taskLogMaxBytesPerTry: c.WEFT_TASK_LOG_MAX_BYTES_PER_TRY,
    apiUrl: c.WEFT_API_URL,
    apiKey: c.WEFT_API_KEY,
    builtinWorker: c.WEFT_BUILTIN_WORKER,
    workerId: c.WEFT_WORKER_ID,
    workerQueues: c.WEFT_WORKER_QUEUES.split(','),
    workerConcurrency: c.WEFT_WORKER_CONCURRENCY,
    workerShutdownGraceSec: c.WEFT_WORKER_SHUTDOWN_GRACE_SEC,
    shutdownGraceSec: c.WEFT_SHUTDOWN_GRACE_SEC,
    shutdownReadinessDelaySec: c.WEFT_SHUTDOWN_READINESS_DELAY_SEC,
    queuedTimeoutSec: c.WEFT_QUEUED_TIMEOUT_SEC,
    queuedTimeoutFail: c.WEFT_QUEUED_TIMEOUT_FAIL,
    backfillMaxRuns: c.WEFT_BACKFILL_MAX_RUNS,
    authEnabled: c.WEFT_AUTH === 'on',
    adminApiKey: c.WEFT_ADMIN_API_KEY,
    secretsKey: c.WEFT_SECRETS_KEY,
    apiKeyCacheSec: c.WEFT_API_KEY_CACHE_SEC,
    rateLimitPerSec: c.WEFT_RATE_LIMIT_PER_SEC,
    rateLimitBurst: c.WEFT_RATE_LIMIT_BURST,
    maxPollsPerWorker: c.WEFT_MAX_POLLS_PER_WORKER,
    groupCommitMaxItems: c.WEFT_GROUP_COMMIT_MAX_ITEMS,
    groupCommitInFlight: c.WEFT_GROUP_COMMIT_IN_FLIGHT,
    maxJsonDepth: c.WEFT_MAX_JSON_DEPTH,
    graphql: {
      maxTokens: c.WEFT_GRAPHQL_MAX_TOKENS,
      maxDepth: c.WEFT_GRAPHQL_MAX_DEPTH,
      maxAliases: c.WEFT_GRAPHQL_MAX_ALIASES,
      maxCost: c.WEFT_GRAPHQL_MAX_COST,
      dbConnectionsPerRequest: c.WEFT_GRAPHQL_DB_CONNECTIONS,
      wsMaxSubscriptions: c.WEFT_GRAPHQL_WS_MAX_SUBSCRIPTIONS,
    },
    heapGrowingPercent: c.WEFT_HEAP_GROWING_PERCENT,
    smtp: {
      host: c.WEFT_SMTP_HOST,
      port: c.WEFT_SMTP_PORT,
      secure: c.WEFT_SMTP_SECURE,
      user: c.WEFT_SMTP_USER,
      password: c.WEFT_SMTP_PASSWORD,
      from: c.WEFT_SMTP_FROM,
    },
    outbound: {
      callbacks: policy(c.WEFT_OUTBOUND_ALLOW, c.WEFT_OUTBOUND_DENY, 'WEFT_OUTBOUND'),
      httpTasks: policy(c.WEFT_HTTP_TASK_ALLOW, c.WEFT_HTTP_TASK_DENY, 'WEFT_HTTP_TASK'),
    },
    metricsPublic: c.WEFT_METRICS_PUBLIC,
    schedulerHttpPort: c.WEFT_SCHEDULER_HTTP_PORT,
    schedulerTickMs: c.WEFT_SCHEDULER_TICK_MS,
    webhooks: { pollMs: c.WEFT_WEBHOOK_POLL_MS, disableAfterSec: c.WEFT_WEBHOOK_DISABLE_AFTER_SEC },
    schedulerDagsPerTick: c.WEFT_SCHEDULER_DAGS_PER_TICK,
    schedulerRunsPerDagPerTick: c.WEFT_SCHEDULER_RUNS_PER_DAG_PER_TICK,
    retention: {
      runsDays: c.WEFT_RETENTION_RUNS_DAYS,
      taskTriesDays: c.WEFT_RETENTION_TASK_TRIES_DAYS,
      taskLogsDays: c.WEFT_RETENTION_TASK_LOGS_DAYS,
      xcomDays: c.WEFT_RETENTION_XCOM_DAYS,
      datasetEventsDays: c.WEFT_RETENTION_DATASET_EVENTS_DAYS,
      auditDays: c.WEFT_RETENTION_AUDIT_DAYS,
      eventsDays: c.WEFT_RETENTION_EVENTS_DAYS,
      intervalSec: c.WEFT_RETENTION_INTERVAL_SEC,
      batchSize: c.WEFT_RETENTION_BATCH_SIZE,
    },
    kubernetes: {
      kubeconfig: c.WEFT_KUBERNETES_KUBECONFIG,
      launcherId: c.WEFT_KUBERNETES_LAUNCHER_ID,
      namespaces: c.WEFT_KUBERNETES_NAMESPACES.split(','),
      queues: c.WEFT_KUBERNETES_QUEUES.split(','),
      maxPods: c.WEFT_KUBERNETES_MAX_PODS,
      podTemplateFile: c.WEFT_KUBERNETES_POD_TEMPLATE_FILE,
      startupTimeoutSec: c.WEFT_KUBERNETES_STARTUP_TIMEOUT_SEC,
      podTtlSec: c.WEFT_KUBERNETES_POD_TTL_SEC,
      keepFailedPods: c.WEFT_KUBERNETES_KEEP_FAILED_PODS,
    },
  };
}

function policy(allow: string[] | undefined, deny: string[] | undefined, prefix: string): AddressPolicy {
  const result = buildAddressPolicy({ allow, deny, allowSource: `${prefix}_ALLOW`, denySource: `${prefix}_DENY` });
  // Each list was checked on its own above, so the pair builds.
  if (!result.ok) throw new ConfigError(result.errors.map((message) => ({ variable: `${prefix}_ALLOW/DENY`, message })));
  return result.policy;
}

/** Nest injection token for the validated Config. */
export const CONFIG = Symbol('CONFIG');
