import pg from 'pg';
import { cancelledResult, failed, withinXcomLimit, type ExecutionContext, type ExecutionResult, type TaskExecutor } from './executor.js';
import { cutText } from './line-splitter.js';
import { errorMessage } from '../../common/error-text.js';

/** `parameters`: bind values for $1, $2… (one statement, extended protocol); without them a script runs as it is. */
export type SqlTaskPayload = { sql: string; parameters?: unknown[]; connection?: string };

export type SqlExecutorOptions = {
  /** Where connection ids are looked up (`WEFT_CONN_<ID>`); the worker passes its environment, read once here. */
  connEnv: Record<string, string | undefined>;
  connectTimeoutMs?: number;
};

export const DEFAULT_SQL_CONNECT_TIMEOUT_MS = 30_000;
/** After pg_cancel_backend, how long the query may take to give up before its connection is cut. */
const CANCEL_WAIT_MS = 1000;
const CLOSE_WAIT_MS = 1000;
/**
 * SQLSTATE classes whose errors repeat identically on another attempt: data exceptions (22), integrity violations
 * (23), bad credentials (28), missing database or schema (3D, 3F), syntax and access rules (42), unsupported features
 * (0A). Everything else (connection 08, serialisation and deadlock 40, resources 53, operator intervention 57, system
 * 58, internal XX) may pass on a later try.
 */
const PERMANENT_SQLSTATE_CLASSES = new Set(['0A', '22', '23', '28', '3D', '3F', '42']);

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** Airflow's AIRFLOW_CONN_ convention: connection `my-db` is read from `WEFT_CONN_MY_DB`. */
export function connectionEnvKey(connectionId: string): string {
  return `WEFT_CONN_${connectionId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * Runs the task's SQL on PostgreSQL with a fresh client per attempt, through the simple query protocol so that a
 * script of several statements runs as one. XCom: `return_value` = rows of the last statement as objects and
 * `rowCount` = its row count. Dates, times, timestamps and intervals stay in PostgreSQL's text form (pg would turn
 * them into JavaScript Dates in the worker's time zone); bytea becomes `\x…` hex; int8 and numeric stay strings.
 */
export class SqlExecutor implements TaskExecutor<SqlTaskPayload> {
  readonly type = 'sql';
  private readonly connEnv: Record<string, string | undefined>;
  private readonly connectTimeoutMs: number;

  constructor(options: SqlExecutorOptions) {
    this.connEnv = { ...options.connEnv };
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_SQL_CONNECT_TIMEOUT_MS;
  }

  async execute(task: SqlTaskPayload, ctx: ExecutionContext): Promise<ExecutionResult> {
    if (typeof task?.sql !== 'string' || task.sql.trim() === '') return failed('invalid sql task: sql must be a non-empty string', false);
    const target = this.resolve(task.connection);
    if ('problem' in target) return failed(target.problem, false);
    if (ctx.signal.aborted) return cancelledResult(ctx.signal);
    const redact = redactor(target.url);
    try {
      if (task.parameters !== undefined && !Array.isArray(task.parameters)) return failed('invalid sql task: parameters must be an array', false);
      return await this.run(task.sql, task.parameters, target, ctx);
    } catch (err) {
      return failure(err, target.display, redact);
    }
  }

  private resolve(connection: unknown): Target | { problem: string } {
    if (typeof connection !== 'string' || connection.trim() === '') {
      return { problem: 'sql task has no connection: give a connection id (read from WEFT_CONN_<ID> on the worker) or a postgres:// URL' };
    }
    if (POSTGRES_URL.test(connection)) return target(connection, 'the connection URL');
    const key = connectionEnvKey(connection);
    const value = this.connEnv[key];
    if (value === undefined || value === '') return { problem: `connection "${connection}" is not defined: set ${key} on the worker` };
    if (!POSTGRES_URL.test(value)) return { problem: `${key} must be a postgres:// or postgresql:// URL` };
    return target(value, key);
  }

  private async run(sql: string, parameters: unknown[] | undefined, target: Target, ctx: ExecutionContext): Promise<ExecutionResult> {
    const client = new pg.Client({
      connectionString: target.url,
      connectionTimeoutMillis: this.connectTimeoutMs,
      application_name: 'weft-worker',
      types: { getTypeParser: textForTemporalTypes },
    });
    // A connection dropped while idle emits 'error'; without a listener that would crash the worker.
    client.on('error', () => undefined);
    client.on('notice', (notice) => ctx.log(cutText(`${notice.severity ?? 'NOTICE'}: ${notice.message}`, ctx.limits.maxLogLineBytes), 'stderr'));
    const aborted = abortPromise(ctx.signal);
    try {
      ctx.log(`connecting to ${target.display}`);
      if ((await Promise.race([client.connect().then(() => 'connected' as const), aborted.promise])) === 'aborted') {
        return cancelledResult(ctx.signal);
      }
      const { rows: pidRows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const backendPid = pidRows[0]!.pid;

      ctx.log(cutText(`running SQL: ${sql.replace(/\s+/g, ' ').trim()}`, ctx.limits.maxLogLineBytes));
      const started = Date.now();
      // Values travel as bind parameters, never inside the SQL text (templating.md, "SQL").
      const query = (parameters ? client.query(sql, parameters.map(bindValue)) : client.query(sql)) as Promise<pg.QueryResult | pg.QueryResult[]>;
      const outcome = await Promise.race([query.then((result) => ({ result })), aborted.promise]);
      if (outcome === 'aborted') {
        await cancelBackend(target.url, backendPid, query);
        return cancelledResult(ctx.signal);
      }
      const results = Array.isArray(outcome.result) ? outcome.result : [outcome.result];
      const last = results.at(-1);
      const rows = jsonRows(last?.rows ?? []);
      const rowCount = last?.rowCount ?? null;
      ctx.log(`${last?.command ?? 'done'}: ${rows.length} rows returned, row count ${rowCount ?? 'n/a'} (${Date.now() - started} ms)`);
      return withinXcomLimit({ return_value: rows, rowCount }, ctx.limits, 'the result of the last statement');
    } finally {
      aborted.dispose();
      await closeClient(client);
    }
  }
}

/** Strings and numbers as they are; objects and arrays as JSON text (for json/jsonb parameters). */
function bindValue(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
}

type Target = { url: string; display: string };

/** The URL and how it may be shown: user, host, port and database, never the password. */
function target(url: string, source: string): Target | { problem: string } {
  try {
    const parsed = new URL(url);
    const user = parsed.username ? `${parsed.username}@` : '';
    return { url, display: `${parsed.protocol}//${user}${parsed.host}${parsed.pathname}` };
  } catch {
    return { problem: `${source} is not a valid URL` };
  }
}

type Oid = Parameters<typeof pg.types.getTypeParser>[0];
/** text[]; absent from pg-types' TypeId enum, which lists scalar types only. */
const TEXT_ARRAY_OID = 1009 as Oid;
const TEMPORAL_OIDS = new Set([1082, 1083, 1114, 1184, 1186, 1266]);
const TEMPORAL_ARRAY_OIDS = new Set([1182, 1183, 1115, 1185, 1187, 1270]);

function textForTemporalTypes(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (TEMPORAL_OIDS.has(oid)) return (value) => value;
  if (TEMPORAL_ARRAY_OIDS.has(oid)) return pg.types.getTypeParser(TEXT_ARRAY_OID, format ?? 'text') as (value: string) => unknown;
  return pg.types.getTypeParser(oid as Oid, format ?? 'text') as (value: string) => unknown;
}

/** Rows as plain JSON values, the form XCom stores. */
function jsonRows(rows: unknown[]): unknown[] {
  return JSON.parse(
    JSON.stringify(rows, function (this: Record<string, unknown>, key, value: unknown) {
      const raw = this[key];
      if (Buffer.isBuffer(raw)) return `\\x${raw.toString('hex')}`;
      return typeof value === 'bigint' ? value.toString() : value;
    }),
  ) as unknown[];
}

/**
 * Stops the statement on the server from a second connection; cutting the socket alone would leave the backend
 * running it until it next writes to the client.
 */
async function cancelBackend(url: string, pid: number, query: Promise<unknown>): Promise<void> {
  const canceller = new pg.Client({ connectionString: url, connectionTimeoutMillis: CANCEL_WAIT_MS, application_name: 'weft-worker-cancel' });
  canceller.on('error', () => undefined);
  try {
    await canceller.connect();
    await canceller.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // The connection is cut below either way.
  } finally {
    await closeClient(canceller);
  }
  await Promise.race([query.catch(() => undefined), delay(CANCEL_WAIT_MS)]);
}

async function closeClient(client: pg.Client): Promise<void> {
  await Promise.race([client.end().catch(() => undefined), delay(CLOSE_WAIT_MS)]);
}

function failure(err: unknown, display: string, redact: (text: string) => string): ExecutionResult {
  if (err instanceof pg.DatabaseError && err.code) {
    const parts = [`${err.message} (SQLSTATE ${err.code})`];
    if (err.detail) parts.push(`detail: ${err.detail}`);
    if (err.hint) parts.push(`hint: ${err.hint}`);
    if (err.position) parts.push(`at character ${err.position}`);
    return failed(redact(parts.join('; ')), !PERMANENT_SQLSTATE_CLASSES.has(err.code.slice(0, 2)));
  }
  const code = (err as NodeJS.ErrnoException)?.code;
  const message = errorMessage(err);
  return failed(redact(`${display}: ${code && !message.includes(code) ? `${code} ` : ''}${message}`), true);
}

/** Hides the connection password should any message echo it. */
function redactor(url: string): (text: string) => string {
  let secrets: string[] = [];
  try {
    const { password } = new URL(url);
    secrets = [password, decodeURIComponent(password)].filter((s) => s.length >= 3);
  } catch {
    // An unparsable URL was refused before connecting.
  }
  return (text) => secrets.reduce((out, secret) => out.replaceAll(secret, '***'), text);
}

function abortPromise(signal: AbortSignal): { promise: Promise<'aborted'>; dispose(): void } {
  let onAbort = (): void => undefined;
  const promise = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
