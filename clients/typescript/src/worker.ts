/**
 * A worker on top of the generated client: register a handler per task type, then `run()`. It long-polls for
 * tasks (client timeout above `waitSeconds`), heartbeats in the background, aborts a handler whose lease is lost
 * or whose cancellation was requested, reports success (the return value as XCom `return_value`) or failure, asks
 * for its next task in the same request (complete-and-lease-next) and stops gracefully on SIGTERM/SIGINT.
 */
import { hostname } from 'node:os';
import { createClient, createConfig, type Client } from './generated/client/index.js';
import { appendLeaseLogs, completeLease, heartbeatLease, leaseTasks } from './generated/sdk.gen.js';
import type { CompleteLeaseRequest, Lease } from './generated/types.gen.js';

export type CancelReason = 'lease_lost' | 'cancel_requested' | 'shutdown' | 'execution_timeout';

export type TaskContext = {
  lease: Lease;
  /** Aborted when the task must stop; `signal.reason` is a CancelReason. */
  signal: AbortSignal;
  /** Appends a log line to this attempt (sent in batches). */
  log(line: string, stream?: 'stdout' | 'stderr'): void;
  /** Publishes an XCom value besides the return value (published only if the attempt succeeds). */
  pushXcom(key: string, value: unknown): void;
};

/** Its return value becomes XCom `return_value` (undefined: none). Throwing fails the attempt. */
export type TaskHandler = (ctx: TaskContext) => unknown;

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Worker {
  readonly client: Client;
  readonly workerId: string;
  private readonly handlers = new Map<string, TaskHandler>();
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly stopping = new AbortController();
  private readonly opts: Required<Omit<WorkerOptions, 'apiKey' | 'client' | 'workerId'>>;
  private wake: (() => void) | null = null;

  constructor(options: WorkerOptions) {
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
          backoff = Math.min(Math.max(backoff * 2, 500), 10_000);
          this.opts.logger(`lease request failed (${message(err)}); retrying in ${backoff} ms`);
          await sleep(backoff);
        }
      }
      await this.drain();
    } finally {
      ['SIGTERM', 'SIGINT'].forEach((s) => process.off(s, onSignal));
    }
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
    if (!data) throw new Error(`HTTP ${response?.status}: ${JSON.stringify(error)}`);
    return data.leases;
  }

  private start(leases: Lease[]): void {
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
    if (late) for (const r of this.running.values()) r.abort.abort('shutdown' satisfies CancelReason);
    await all;
  }

  private async execute(lease: Lease, abort: AbortController): Promise<void> {
    const lines: { line: string; stream: 'stdout' | 'stderr' }[] = [];
    const xcom: Record<string, unknown> = {};
    const flush = async () => {
      if (!lines.length) return;
      const batch = lines.splice(0);
      await appendLeaseLogs({ client: this.client, path: { leaseId: lease.leaseId }, body: { lines: batch } }).catch(() => undefined);
    };
    // Heartbeat at the server's interval, and never less often than three times per lease period.
    const ttlMs = Date.parse(lease.leaseExpiresAt) - Date.now();
    const everyMs = Math.max(500, Math.min(lease.heartbeatIntervalSec * 1000, ttlMs / 3));
    const heartbeat = setInterval(() => {
      void heartbeatLease({ client: this.client, path: { leaseId: lease.leaseId }, signal: AbortSignal.timeout(everyMs * 2) }).then(
        ({ data, response }) => {
          if (response?.status === 409 || response?.status === 404) abort.abort('lease_lost' satisfies CancelReason);
          else if (data?.cancelRequested) abort.abort('cancel_requested' satisfies CancelReason);
        },
        () => undefined,
      );
      void flush();
    }, everyMs);
    const deadline = lease.executionDeadline ? Date.parse(lease.executionDeadline) - Date.now() : null;
    const timeout = deadline === null ? undefined : setTimeout(() => abort.abort('execution_timeout' satisfies CancelReason), Math.max(0, deadline));

    let outcome: CompleteLeaseRequest;
    try {
      const handler = this.handlers.get(lease.taskType);
      if (!handler) throw new Error(`no handler for task type '${lease.taskType}'`);
      const value = await Promise.race([
        Promise.resolve(handler({ lease, signal: abort.signal, log: (line, stream = 'stdout') => void lines.push({ line, stream }), pushXcom: (k, v) => void (xcom[k] = v) })),
        new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true })),
      ]);
      if (value !== undefined) xcom.return_value = value;
      outcome = { status: 'success', ...(Object.keys(xcom).length ? { xcom } : {}) };
    } catch (err) {
      const reason = abort.signal.aborted ? (abort.signal.reason as CancelReason) : null;
      outcome = reason
        ? { status: 'failed', error: `cancelled: ${reason}`, retryable: reason !== 'cancel_requested' }
        : { status: 'failed', error: message(err), retryable: err instanceof TaskFailure ? err.retryable : true };
    } finally {
      clearInterval(heartbeat);
      clearTimeout(timeout);
    }
    await flush();
    if (abort.signal.reason === 'lease_lost') {
      this.opts.logger(`${lease.taskId} try ${lease.tryNumber}: lease lost, result discarded`);
      return;
    }
    await this.complete(lease, outcome);
  }

  /** Reports the outcome and, while running, takes the next task in the same round trip. */
  private async complete(lease: Lease, outcome: CompleteLeaseRequest): Promise<void> {
    const next = this.stopping.signal.aborted ? undefined : this.leaseRequest(1, 0);
    for (let attempt = 1; ; attempt++) {
      const { data, error, response } = await completeLease({
        client: this.client,
        path: { leaseId: lease.leaseId },
        body: { ...outcome, ...(next ? { next } : {}) },
        signal: AbortSignal.timeout(30_000),
      }).catch((err: unknown) => ({ data: undefined, error: message(err), response: undefined }));
      if (data) {
        // The finished task's slot goes to the next one (started before the slot is released, so run() sees none free).
        if (data.leases?.length) this.start(data.leases);
        return;
      }
      if (response && response.status < 500) {
        this.opts.logger(`${lease.taskId} try ${lease.tryNumber}: completion refused (${response.status} ${JSON.stringify(error)})`);
        return;
      }
      // Network trouble or 5xx: the same payload again is idempotent.
      if (attempt >= 5) return this.opts.logger(`${lease.taskId}: completion failed: ${JSON.stringify(error)}`);
      await sleep(attempt * 1000);
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
