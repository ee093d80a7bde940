/**
 * A worker on top of the generated client: register a handler per task type, then `run()`. It long-polls for
 * tasks (client timeout above `waitSeconds`), heartbeats in the background, aborts a handler whose lease is lost
 * or whose cancellation was requested, reports success (the return value as XCom `return_value`) or failure, asks
 * for its next task in the same request (complete-and-lease-next) and stops gracefully on SIGTERM/SIGINT.
 *
 * It fences itself as the built-in worker does (src/worker/domain/lease-life.ts): once no heartbeat has been accepted
 * for as long as the lease lives, measured on the server's clock, it aborts the handler a second before the lease would
 * end, stops heartbeating that attempt and reports it `cancelled: lease_expired` (retryable), so that the attempt never
 * runs beside its retry (a partition, an API outage longer than the lease). A handler that ignores `ctx.signal` keeps
 * running in this process (JavaScript cannot stop it), but its result is discarded.
 */
import { hostname } from 'node:os';
import { createClient, createConfig, type Client } from './generated/client/index.js';
import { appendLeaseLogs, completeLease, heartbeatLease, leaseTasks } from './generated/sdk.gen.js';
import type { CompleteLeaseRequest, Lease } from './generated/types.gen.js';

export type CancelReason = 'lease_lost' | 'lease_expired' | 'cancel_requested' | 'shutdown' | 'execution_timeout';

export type TaskContext = {
  lease: Lease;
  /** Aborted when the task must stop; `signal.reason` is a CancelReason. */
  signal: AbortSignal;
  /** Appends a log line to this attempt (sent in batches). */
  log(line: string, stream?: 'stdout' | 'stderr'): void;
  /** Publishes an XCom value besides the return value (published only if the attempt succeeds). */
  pushXcom(key: string, value: unknown): void;
  /** This instance's position among its mapped task's instances (0…n−1); −1 for an unmapped task (`lease.mapIndex`). */
  mapIndex: number;
  /** A mapped instance's values of its task's `expand` keys ({} for an unmapped task). */
  expand: Record<string, unknown>;
  /** A branch task's choice: the direct downstream task ids to follow (sent as followTaskIds on success). */
  follow(...taskIds: string[]): void;
};

/** Its return value becomes XCom `return_value` (undefined: none). Throwing fails the attempt. */
export type TaskHandler = (ctx: TaskContext) => unknown;

/**
 * The API refused the worker's key (401) or its right to lease from its queues (403). `run()` rejects with it after
 * running tasks finish: asking again would not make the key good. The message names the key by its first 12
 * characters (the prefix the API lists it under, never the secret) and says what to do.
 */
export class WorkerRefusedError extends Error {
  constructor(
    message: string,
    readonly status: 401 | 403,
  ) {
    super(message);
  }
}

/** Throw this to fail without a retry (the default for other errors is retryable). */
export class TaskFailure extends Error {
  constructor(message: string, readonly retryable = false) {
    super(message);
  }
}

export type WorkerOptions = {
  baseUrl: string;
  apiKey?: string;
  workerId?: string;
  queues?: string[];
  /** Tasks run at once. */
  concurrency?: number;
  /** Long-poll wait per lease request (≤ 30). */
  waitSeconds?: number;
  /** On stop: how long running tasks may finish before they are aborted (reported retryable). */
  shutdownGraceMs?: number;
  logger?: (message: string) => void;
  client?: Client;
};

export class Worker {
  readonly client: Client;
  readonly workerId: string;
  private readonly handlers = new Map<string, TaskHandler>();
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly stopping = new AbortController();
  /** Aborted a few seconds after the shutdown grace: attempts still reporting give up then. */
  private readonly hardStop = new AbortController();
  private readonly opts: Required<Omit<WorkerOptions, 'apiKey' | 'client' | 'workerId'>>;
  private wake: (() => void) | null = null;

  private readonly apiKey: string | undefined;

  constructor(options: WorkerOptions) {
    this.apiKey = options.apiKey;
    this.workerId = options.workerId ?? `${hostname()}-${process.pid}`;
    this.opts = { queues: ['default'], concurrency: 1, waitSeconds: 20, shutdownGraceMs: 10_000, logger: (m) => console.error(m), ...options };
    this.client = options.client ?? createClient(createConfig({ baseUrl: options.baseUrl, ...(options.apiKey ? { auth: options.apiKey } : {}) }));
  }

  /** Registers the handler of a task type; the worker leases only the types it has handlers for. */
  handle(taskType: string, handler: TaskHandler): this {
    this.handlers.set(taskType, handler);
    return this;
  }

  /** Leases and runs tasks until stop() (or SIGTERM/SIGINT with `installSignalHandlers`). */
  async run({ installSignalHandlers = true } = {}): Promise<void> {
    if (!this.handlers.size) throw new Error('register at least one handler before run()');
    const onSignal = () => void this.stop();
    if (installSignalHandlers) ['SIGTERM', 'SIGINT'].forEach((s) => process.once(s, onSignal));
    let backoff = 0;
    let refused: WorkerRefusedError | undefined;
    try {
      while (!this.stopping.signal.aborted) {
        const free = this.opts.concurrency - this.running.size;
        if (free <= 0) {
          await new Promise<void>((r) => (this.wake = r));
          continue;
        }
        try {
          this.start(await this.lease(free));
          backoff = 0;
        } catch (err) {
          if (this.stopping.signal.aborted) break;
          if (err instanceof WorkerRefusedError) {
            this.opts.logger(err.message);
            refused = err;
            break;
          }
          backoff = Math.min(Math.max(backoff * 2, 500), 10_000);
          this.opts.logger(`lease request failed (${message(err)}); retrying in ${backoff} ms`);
          await sleep(backoff, this.stopping.signal);
        }
      }
      await this.drain();
    } finally {
      ['SIGTERM', 'SIGINT'].forEach((s) => process.off(s, onSignal));
    }
    if (refused) throw refused;
  }

  /** Stops leasing; run() returns once running tasks finished or were aborted after the grace period. */
  stop(): void {
    this.stopping.abort();
    this.wake?.();
  }

  private leaseRequest(capacity: number, waitSeconds: number) {
    return { queues: this.opts.queues, capacity, waitSeconds, taskTypes: [...this.handlers.keys()], hostname: hostname() };
  }

  private async lease(capacity: number): Promise<Lease[]> {
    const { data, error, response } = await leaseTasks({
      client: this.client,
      path: { workerId: this.workerId },
      body: this.leaseRequest(capacity, this.opts.waitSeconds),
      // The server holds the request up to waitSeconds: the client waits longer than that.
      signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout((this.opts.waitSeconds + 15) * 1000)]),
    });
    if (data) return withLife(data.leases, response);
    if (!response) throw new Error(`cannot reach the API at ${this.opts.baseUrl}: ${connectionCause(error)}`);
    const said = `${response.status}: ${(error as { message?: string } | undefined)?.message ?? JSON.stringify(error)}`;
    if (response.status === 401 || response.status === 403) throw new WorkerRefusedError(this.refusal(response.status, said), response.status);
    throw new Error(`the API at ${this.opts.baseUrl} answered ${said}`);
  }

  /** Which key (its listed 12-character prefix, never the secret), what the API said, what to do. */
  private refusal(status: 401 | 403, said: string): string {
    const key = this.apiKey ? `API key ${this.apiKey.slice(0, 12)}…` : 'no API key';
    const api = `the API at ${this.opts.baseUrl}`;
    if (status === 403) {
      return `${api} does not let ${key} lease from queue(s) ${this.opts.queues.join(', ')} (${said}): give the worker a key with role worker whose queues include them (apiKey); stopping`;
    }
    return this.apiKey
      ? `${api} refused ${key} (${said}): give the worker a valid key with role worker (apiKey; an admin creates one: POST /api/v1/apiKeys); stopping`
      : `${api} needs an API key (${said}): give the worker a key with role worker (apiKey; an admin creates one: POST /api/v1/apiKeys); stopping`;
  }

  private start(leases: LeaseWithLife[]): void {
    for (const lease of leases) {
      const abort = new AbortController();
      const done = this.execute(lease, abort).finally(() => {
        this.running.delete(lease.leaseId);
        this.wake?.();
        this.wake = null;
      });
      this.running.set(lease.leaseId, { abort, done });
    }
  }

  private async drain(): Promise<void> {
    const all = Promise.all([...this.running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.opts.shutdownGraceMs)));
    const late = await Promise.race([all.then(() => false), grace]);
    clearTimeout(timer);
    if (late) {
      for (const r of this.running.values()) r.abort.abort('shutdown' satisfies CancelReason);
      // Stopped tasks report once more (retryable); what cannot be reported soon is left to the lease's expiry.
      setTimeout(() => this.hardStop.abort('shutdown'), 5_000).unref();
    }
    await all;
  }

  /**
   * One attempt: run the handler, then report it. The heartbeat goes on until the report is settled; log lines and
   * the completion are sent until the API accepts or refuses them (a 503 while its database is down is retried with
   * backoff, however long it lasts), so an outage never makes a finished task run again. Only the heartbeat
   * answering 409 (the lease is gone) or the end of the shutdown grace stops that.
   *
   * While the handler runs, the attempt is fenced: without an accepted heartbeat for as long as the lease lives
   * (leaseLifeMs), it is aborted with 'lease_expired' a second before the lease would end (fenceDelayMs), its heartbeat
   * stops and it is reported failed and retryable, whatever the handler does next.
   */
  private async execute({ lifeMs, ...lease }: LeaseWithLife, abort: AbortController): Promise<void> {
    const lines: { line: string; stream: 'stdout' | 'stderr' }[] = [];
    const xcom: Record<string, unknown> = {};
    let followTaskIds: string[] | undefined;
    const gone = new AbortController();
    const stopReporting = AbortSignal.any([gone.signal, this.hardStop.signal]);
    // One batch at a time, in order; a batch that fails for a retryable reason goes back to the front.
    let sending: Promise<Sent> | null = null;
    const flush = (): Promise<Sent> => {
      if (sending) return sending;
      if (!lines.length) return Promise.resolve('accepted');
      const batch = lines.splice(0, 1000);
      sending = send(() => appendLeaseLogs({ client: this.client, path: { leaseId: lease.leaseId }, body: { lines: batch }, signal: AbortSignal.timeout(30_000) }))
        .then((sent) => {
          if (sent === 'retry') lines.unshift(...batch);
          return sent;
        })
        .finally(() => (sending = null));
      return sending;
    };
    // Heartbeat at the server's interval, and never less often than three times per lease period.
    const ttlMs = Date.parse(lease.leaseExpiresAt) - Date.now();
    const everyMs = Math.max(500, Math.min(lease.heartbeatIntervalSec * 1000, ttlMs / 3));
    // Fencing: restarted by every answer that extends the lease (the lease itself, then each accepted heartbeat).
    let fence: NodeJS.Timeout | undefined;
    let running = true;
    const extend = (life: number | undefined) => {
      if (life === undefined || !running || abort.signal.aborted) return;
      clearTimeout(fence);
      fence = setTimeout(() => {
        if (abort.signal.aborted) return;
        clearInterval(heartbeat);
        this.opts.logger(
          `${lease.taskId} try ${lease.tryNumber}: no heartbeat accepted for as long as the lease lives (the API unreachable or unavailable, or this worker stalled): stopping the task before it can be leased again; reporting cancelled: lease_expired, whatever the handler returns now is discarded`,
        );
        abort.abort('lease_expired' satisfies CancelReason);
      }, fenceDelayMs(life));
    };
    const heartbeat = setInterval(() => {
      void heartbeatLease({ client: this.client, path: { leaseId: lease.leaseId }, signal: AbortSignal.timeout(everyMs * 2) }).then(
        ({ data, response }) => {
          if (response?.status === 409 || response?.status === 404) {
            abort.abort('lease_lost' satisfies CancelReason);
            gone.abort('lease_lost');
            return;
          }
          if (response?.ok) extend(leaseLifeMs(data?.leaseExpiresAt, response.headers.get('date')));
          if (data?.cancelRequested) abort.abort('cancel_requested' satisfies CancelReason);
        },
        () => undefined,
      );
      void flush();
    }, everyMs);
    extend(lifeMs);
    const deadline = lease.executionDeadline ? Date.parse(lease.executionDeadline) - Date.now() : null;
    const timeout = deadline === null ? undefined : setTimeout(() => abort.abort('execution_timeout' satisfies CancelReason), Math.max(0, deadline));

    let outcome: CompleteLeaseRequest;
    try {
      const handler = this.handlers.get(lease.taskType);
      if (!handler) throw new Error(`no handler for task type '${lease.taskType}'`);
      const value = await Promise.race([
        Promise.resolve(
          handler({
            lease,
            signal: abort.signal,
            log: (line, stream = 'stdout') => void lines.push({ line, stream }),
            pushXcom: (k, v) => void (xcom[k] = v),
            mapIndex: lease.mapIndex ?? -1,
            expand: (lease.expand as Record<string, unknown> | undefined) ?? {},
            follow: (...taskIds) => void (followTaskIds = taskIds),
          }),
        ),
        new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true })),
      ]);
      if (value !== undefined) xcom.return_value = value;
      outcome = { status: 'success', ...(Object.keys(xcom).length ? { xcom } : {}), ...(followTaskIds ? { followTaskIds } : {}) };
    } catch (err) {
      const reason = abort.signal.aborted ? (abort.signal.reason as CancelReason) : null;
      outcome = reason
        ? { status: 'failed', error: `cancelled: ${reason}`, retryable: reason !== 'cancel_requested' }
        : { status: 'failed', error: message(err), retryable: err instanceof TaskFailure ? err.retryable : true };
    } finally {
      clearTimeout(timeout);
      running = false;
      clearTimeout(fence);
    }
    try {
      if (abort.signal.reason === 'lease_lost') {
        this.opts.logger(`${lease.taskId} try ${lease.tryNumber}: lease lost, result discarded`);
        return;
      }
      const drain = async (): Promise<Sent> => {
        for (;;) {
          const sent = await flush();
          if (sent !== 'accepted' || !lines.length) return sent;
        }
      };
      const logged = await this.untilSettled(`${lease.taskId} try ${lease.tryNumber}: sending log lines`, drain, stopReporting);
      if (logged === 'refused') this.opts.logger(`${lease.taskId} try ${lease.tryNumber}: log lines refused`);
      await this.complete(lease, outcome, stopReporting);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Calls `attempt` with backoff while it says 'retry', until it is accepted or refused, or `stop` aborts. */
  private async untilSettled(what: string, attempt: () => Promise<Sent>, stop: AbortSignal): Promise<Sent | 'stopped'> {
    for (let n = 1; ; n++) {
      if (stop.aborted) return 'stopped';
      const sent = await attempt();
      if (sent !== 'retry') return sent;
      const delay = backoffMs(n);
      if (n === 1) this.opts.logger(`${what} failed; retrying until the API takes it`);
      await sleep(delay, stop);
    }
  }

  /** Reports the outcome and, while running, takes the next task in the same round trip. */
  private async complete(lease: Lease, outcome: CompleteLeaseRequest, stop: AbortSignal): Promise<void> {
    const next = this.stopping.signal.aborted ? undefined : this.leaseRequest(1, 0);
    let leases: LeaseWithLife[] | undefined;
    let refusal: unknown;
    const sent = await this.untilSettled(
      `${lease.taskId} try ${lease.tryNumber}: sending the completion`,
      () =>
        send(
          () => completeLease({ client: this.client, path: { leaseId: lease.leaseId }, body: { ...outcome, ...(next ? { next } : {}) }, signal: AbortSignal.timeout(30_000) }),
          (data, response) => (leases = withLife(data?.leases ?? [], response)),
          (error) => (refusal = error),
        ),
      stop,
    );
    if (sent === 'refused') this.opts.logger(`${lease.taskId} try ${lease.tryNumber}: completion refused (${JSON.stringify(refusal)})`);
    else if (sent === 'stopped') this.opts.logger(`${lease.taskId} try ${lease.tryNumber}: completion not sent (${String(stop.reason)})`);
    // The finished task's slot goes to the next one (started before the slot is released, so run() sees none free).
    else if (leases?.length) this.start(leases);
  }
}

/** How a request ended: accepted, refused by the server (sending it again would not help), or worth retrying. */
type Sent = 'accepted' | 'refused' | 'retry';

/**
 * Sends one request: a network error, a timeout, a 5xx (the API's database down, a replica shutting down), 408, 425
 * or 429 is worth retrying; another 4xx (409: the lease is gone) is the server's answer.
 */
async function send<T>(
  request: () => Promise<{ data?: T; error?: unknown; response?: Response }>,
  onData: (data: T | undefined, response: Response) => void = () => undefined,
  onRefused: (error: unknown) => void = () => undefined,
): Promise<Sent> {
  try {
    const { data, error, response } = await request();
    if (response?.ok) {
      onData(data, response);
      return 'accepted';
    }
    const status = response?.status;
    if (status === undefined || status >= 500 || status === 408 || status === 425 || status === 429) return 'retry';
    onRefused(error);
    return 'refused';
  } catch {
    return 'retry';
  }
}

/** A lease and how long it lives from when its answer arrived, on the server's clock (leaseLifeMs). */
type LeaseWithLife = Lease & { lifeMs?: number };

function withLife(leases: Lease[], response: Response | undefined): LeaseWithLife[] {
  const date = response?.headers.get('date');
  return leases.map((l) => ({ ...l, lifeMs: leaseLifeMs(l.leaseExpiresAt, date) }));
}

/**
 * How much longer the server counts a lease as live, on the server's own clock (no skew between the worker's clock and
 * the server's enters): `leaseExpiresAt` minus the `Date` header of the same answer, less a second for the header's
 * resolution (it is truncated to the second). Undefined when either is missing or not a date (a proxy that drops
 * `Date`): the worker cannot tell then, and does not fence. The built-in worker's rule (src/worker/domain/lease-life.ts).
 */
function leaseLifeMs(leaseExpiresAt: unknown, dateHeader: string | null | undefined): number | undefined {
  if (typeof leaseExpiresAt !== 'string' || !dateHeader) return undefined;
  const expires = Date.parse(leaseExpiresAt);
  const serverNow = Date.parse(dateHeader);
  if (!Number.isFinite(expires) || !Number.isFinite(serverNow)) return undefined;
  return Math.max(0, expires - serverNow - 1000);
}

/**
 * When to stop an attempt whose lease lives `lifeMs` more unless a heartbeat extends it: a second before the end (half
 * the life, for a lease shorter than two seconds), so that it is gone before the reaper can hand the task to another worker.
 */
function fenceDelayMs(lifeMs: number): number {
  return Math.max(lifeMs / 2, lifeMs - 1000);
}

/** Doubling from 250 ms up to 2 s, each wait between half and all of that (workers that failed together spread out). */
function backoffMs(attempt: number): number {
  const ceiling = Math.min(2000, 250 * 2 ** (attempt - 1));
  return ceiling / 2 + (ceiling / 2) * Math.random();
}

function sleep(ms: number, stop?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stop?.removeEventListener('abort', done);
      resolve();
    }
    stop?.addEventListener('abort', done, { once: true });
  });
}

/** "connect ECONNREFUSED 127.0.0.1:8080": fetch itself only says "fetch failed". */
function connectionCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'no answer in time';
  return cause?.message ?? cause?.code ?? message(err);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
