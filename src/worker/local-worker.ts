import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { cancelledResult, errorMessage, type CancelReason, type ExecutionResult, type TaskExecutor } from './executors/executor.js';
import { LeaseClient, LeaseLostError, type LeasedTask } from './lease-client.js';

export type LocalWorkerOptions = {
  apiUrl: string;
  apiKey?: string;
  workerId: string;
  queues: string[];
  concurrency: number;
  executors: Map<string, TaskExecutor<unknown>>;
  limits: { maxXcomBytes: number; maxLogLineBytes: number };
  logger: Logger;
  /** Long-poll wait per lease request. */
  waitSeconds?: number;
};

const LOG_FLUSH_MS = 500;
const LOG_FLUSH_LINES = 200;

/**
 * The built-in worker: a loop that long-polls for as many tasks as it has free slots, runs each with its
 * executor, heartbeats in the background, stops a task whose lease is lost or cancelled, streams its log lines
 * and reports the outcome. It uses only the public HTTP lease protocol, exactly as remote workers do.
 */
export class LocalWorker {
  private readonly client: LeaseClient;
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private slotFreed: (() => void) | null = null;

  constructor(private readonly opts: LocalWorkerOptions) {
    this.client = new LeaseClient(opts.apiUrl, opts.apiKey);
  }

  start(): void {
    this.opts.logger.info(
      { workerId: this.opts.workerId, queues: this.opts.queues, concurrency: this.opts.concurrency, taskTypes: [...this.opts.executors.keys()] },
      'built-in worker started',
    );
    this.loop = this.run();
  }

  /** Stops leasing, lets running tasks finish for `graceMs`, then cancels the rest (reported as retryable). */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping.abort();
    this.slotFreed?.();
    await this.loop;
    const all = Promise.all([...this.running.values()].map((r) => r.done));
    const grace = new Promise<'late'>((r) => setTimeout(() => r('late'), graceMs).unref());
    if ((await Promise.race([all.then(() => 'done' as const), grace])) === 'late') {
      for (const r of this.running.values()) r.controller.abort('shutdown' satisfies CancelReason);
      await all;
    }
  }

  private async run(): Promise<void> {
    let backoffMs = 0;
    while (!this.stopping.signal.aborted) {
      const free = this.opts.concurrency - this.running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      try {
        const leases = await this.client.lease(
          this.opts.workerId,
          { queues: this.opts.queues, capacity: free, waitSeconds: this.opts.waitSeconds ?? 20, taskTypes: [...this.opts.executors.keys()], hostname: hostname() },
          this.stopping.signal,
        );
        backoffMs = 0;
        for (const lease of leases) this.launch(lease);
      } catch (err) {
        if (this.stopping.signal.aborted) break;
        backoffMs = Math.min(Math.max(backoffMs * 2, 250), 10_000);
        this.opts.logger.warn(`lease request failed (${errorMessage(err)}); retrying in ${backoffMs} ms`);
        await new Promise((r) => setTimeout(r, backoffMs));
      }
    }
  }

  private launch(lease: LeasedTask): void {
    const controller = new AbortController();
    const done = this.execute(lease, controller).finally(() => {
      this.running.delete(lease.leaseId);
      this.slotFreed?.();
      this.slotFreed = null;
    });
    this.running.set(lease.leaseId, { controller, done });
  }

  private async execute(lease: LeasedTask, controller: AbortController): Promise<void> {
    const log = this.opts.logger.child({ dagId: lease.dagId, runId: lease.runId, taskId: lease.taskId, tryNumber: lease.tryNumber });
    const lines: { line: string; stream: string }[] = [];
    let flushing: Promise<void> = Promise.resolve();
    const flush = () => {
      if (!lines.length) return flushing;
      const batch = lines.splice(0, lines.length);
      flushing = flushing.then(() => this.client.logs(lease.leaseId, batch).catch((err: unknown) => log.warn(`sending logs failed: ${errorMessage(err)}`)));
      return flushing;
    };
    const heartbeat = setInterval(() => {
      this.client.heartbeat(lease.leaseId).then(
        (hb) => hb.cancelRequested && controller.abort('cancel_requested' satisfies CancelReason),
        (err: unknown) => {
          if (err instanceof LeaseLostError) controller.abort('lease_lost' satisfies CancelReason);
          else log.warn(`heartbeat failed: ${errorMessage(err)}`);
        },
      );
    }, Math.max(1, lease.heartbeatIntervalSec) * 1000);
    const logTimer = setInterval(() => void flush(), LOG_FLUSH_MS);
    const deadline = lease.executionDeadline ? new Date(lease.executionDeadline).getTime() - Date.now() : null;
    const timeout = deadline === null ? undefined : setTimeout(() => controller.abort('execution_timeout' satisfies CancelReason), Math.max(0, deadline));

    let result: ExecutionResult;
    const executor = this.opts.executors.get(lease.taskType);
    try {
      result = executor
        ? await executor.execute(lease.task, {
            signal: controller.signal,
            log: (line, stream = 'stdout') => {
              lines.push({ line, stream });
              if (lines.length >= LOG_FLUSH_LINES) void flush();
            },
            env: contextEnv(lease),
            limits: this.opts.limits,
          })
        : { status: 'failed', error: `this worker has no executor for task type '${lease.taskType}'`, retryable: true };
    } catch (err) {
      result = controller.signal.aborted ? cancelledResult(controller.signal) : { status: 'failed', error: errorMessage(err), retryable: true };
    } finally {
      clearInterval(heartbeat);
      clearInterval(logTimer);
      clearTimeout(timeout);
    }
    await flush();
    if (controller.signal.reason === 'lease_lost') {
      log.warn('lease lost: the server no longer counts this attempt, its result is discarded');
      return;
    }
    try {
      await this.client.complete(lease.leaseId, { ...result });
      log.info({ status: result.status }, `task ${result.status}${result.error ? `: ${result.error}` : ''}`);
    } catch (err) {
      log.warn(`completion not accepted: ${errorMessage(err)}`);
    }
  }
}

/** Variables every task sees (shell tasks as environment). */
function contextEnv(lease: LeasedTask): Record<string, string> {
  return {
    WEFT_DAG_ID: lease.dagId,
    WEFT_RUN_ID: lease.runId,
    WEFT_TASK_ID: lease.taskId,
    WEFT_TRY_NUMBER: String(lease.tryNumber),
    WEFT_LOGICAL_DATE: lease.logicalDate,
    WEFT_DS: lease.logicalDate.slice(0, 10),
    WEFT_DATA_INTERVAL_START: lease.dataIntervalStart,
    WEFT_DATA_INTERVAL_END: lease.dataIntervalEnd,
  };
}
