import type { Logger } from 'pino';
import { cancelledResult, type CancelReason, type ExecutionResult, type TaskExecutor } from './executors/executor.js';
import { deliver, LogShipper } from './delivery.js';
import { leaseLoop } from './lease-loop.js';
import { contextVariables } from './domain/context-variables.js';
import { fenceDelayMs, LeaseLife } from './domain/lease-life.js';
import { LeaseClient, LeaseLostError, type LeasedTask } from './lease-client.js';
import { errorMessage } from '../common/error-text.js';

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
/** After the shutdown grace, how long stopped tasks may still try to report. */
const STOPPED_REPORT_MS = 5_000;

/**
 * The built-in worker: a loop that long-polls for as many tasks as it has free slots, runs each with its
 * executor, heartbeats in the background, stops a task whose lease is lost or cancelled, streams its log lines
 * and reports the outcome. It uses only the public HTTP lease protocol, exactly as remote workers do.
 */
export class LocalWorker {
  private readonly client: LeaseClient;
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly stopping = new AbortController();
  /** Aborted when the shutdown grace is over: attempts still reporting give up then. */
  private readonly hardStop = new AbortController();
  private loop: Promise<string | undefined> | null = null;
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

  /**
   * Resolves when the worker stops leasing by itself: with the reason when the API refused its key (401/403, also
   * logged as an error), after which `weft worker` exits 1. Never resolves while the worker keeps leasing.
   */
  async refused(): Promise<string> {
    const reason = await this.loop;
    return reason ?? new Promise<never>(() => undefined);
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
      // Stopped tasks report once more (retryable: shutdown); what cannot be reported within a few seconds more
      // is left to the lease's expiry.
      setTimeout(() => this.hardStop.abort('shutdown'), STOPPED_REPORT_MS).unref();
      await all;
    }
  }

  private run(): Promise<string | undefined> {
    return leaseLoop({
      ...this.opts,
      client: this.client,
      taskTypes: [...this.opts.executors.keys()],
      signal: this.stopping.signal,
      free: () => this.opts.concurrency - this.running.size,
      untilFree: () => new Promise<void>((resolve) => (this.slotFreed = resolve)),
      take: (lease) => this.launch(lease),
    });
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

  /**
   * One attempt: run it, then report it. The heartbeat goes on until the report is settled, and the log lines and the
   * completion are sent until the API accepts or refuses them (409: the lease is gone), however long it is
   * unavailable (a database outage, a failover: 503), so an outage never makes a finished task run again. Only
   * the heartbeat answering 409, or the end of the shutdown grace, stops that.
   */
  private async execute(lease: LeasedTask, controller: AbortController): Promise<void> {
    const log = this.opts.logger.child({ dagId: lease.dagId, runId: lease.runId, taskId: lease.taskId, tryNumber: lease.tryNumber });
    const logs = new LogShipper((lines) => this.client.logs(lease.leaseId, lines));
    // Aborted when the lease is gone (the heartbeat answered 409) or the worker stops for good: nothing to report then.
    const gone = new AbortController();
    const stopReporting = AbortSignal.any([gone.signal, this.hardStop.signal]);
    const warn = warnOnce(log);
    const beatEveryMs = Math.max(1, lease.heartbeatIntervalSec) * 1000;
    // Fencing on this side: once no heartbeat has been accepted for as long as the lease lives, the server may have
    // reaped it and leased the task again; the attempt stops rather than run beside its retry.
    const life = new LeaseLife(lease.lifeMs, () => {
      if (controller.signal.aborted) return;
      log.warn('no heartbeat accepted for as long as the lease lives (the API unreachable or unavailable, or this worker stopped or stalled): stopping the task before it can be leased again');
      controller.abort('lease_expired' satisfies CancelReason);
    });
    const heartbeat = setInterval(() => {
      this.client.heartbeat(lease.leaseId, beatEveryMs * 2).then(
        (hb) => {
          warn.recovered('heartbeat');
          life.extend(hb.lifeMs);
          if (hb.cancelRequested) controller.abort('cancel_requested' satisfies CancelReason);
        },
        (err: unknown) => {
          if (err instanceof LeaseLostError) {
            controller.abort('lease_lost' satisfies CancelReason);
            gone.abort('lease_lost');
          } else warn.failed('heartbeat', err);
        },
      );
    }, beatEveryMs);
    const logTimer = setInterval(() => {
      if (logs.size) logs.flush().then(() => warn.recovered('logs'), (err: unknown) => warn.failed('logs', err));
    }, LOG_FLUSH_MS);
    const deadline = lease.executionDeadline ? new Date(lease.executionDeadline).getTime() - Date.now() : null;
    const timeout = deadline === null ? undefined : setTimeout(() => controller.abort('execution_timeout' satisfies CancelReason), Math.max(0, deadline));

    let result: ExecutionResult;
    const executor = this.opts.executors.get(lease.taskType);
    try {
      result = executor
        ? await executor.execute(lease.task, {
            signal: controller.signal,
            log: (line, stream = 'stdout') => {
              logs.add(line, stream);
              if (logs.size >= LOG_FLUSH_LINES) logs.flush().catch((err: unknown) => warn.failed('logs', err));
            },
            env: contextVariables(lease),
            limits: this.opts.limits,
            lease: lease.lifeMs === undefined ? undefined : { fenceMs: fenceDelayMs(lease.lifeMs), onExtended: (listener) => life.onExtended(listener) },
          })
        : { status: 'failed', error: `this worker has no executor for task type '${lease.taskType}'`, retryable: true };
    } catch (err) {
      result = controller.signal.aborted ? cancelledResult(controller.signal) : { status: 'failed', error: errorMessage(err), retryable: true };
    } finally {
      clearInterval(logTimer);
      clearTimeout(timeout);
      life.stop();
    }
    try {
      if (controller.signal.reason === 'lease_lost') {
        log.warn('lease lost: the server no longer counts this attempt, its result is discarded');
        return;
      }
      const retrying = (what: string) => (err: unknown, attempt: number) => {
        if (attempt === 1) log.warn(`sending ${what} failed (${errorMessage(err)}); retrying until the API takes it`);
      };
      const shipped = await logs.drain(stopReporting, retrying('log lines'));
      if (shipped.outcome === 'refused') log.warn(`log lines refused: ${errorMessage(shipped.error)}`);
      const sent = await deliver(() => this.client.complete(lease.leaseId, { ...result }), stopReporting, retrying('the completion'));
      if (sent.outcome === 'accepted') log.info({ status: result.status }, `task ${result.status}${result.error ? `: ${result.error}` : ''}`);
      else if (sent.outcome === 'refused') log.warn(`completion not accepted: ${errorMessage(sent.error)}`);
      else log.warn(`completion not sent (${String(sent.reason)}): ${result.status}${result.error ? `: ${result.error}` : ''}`);
    } finally {
      clearInterval(heartbeat);
    }
  }
}

/** Logs the first failure of a kind of call, and its recovery, instead of every failed attempt during an outage. */
function warnOnce(log: Logger): { failed(what: string, err: unknown): void; recovered(what: string): void } {
  const failing = new Set<string>();
  return {
    failed(what, err) {
      if (failing.has(what)) return;
      failing.add(what);
      log.warn(`${what} failed (${errorMessage(err)}); retrying`);
    },
    recovered(what) {
      if (failing.delete(what)) log.info(`${what} working again`);
    },
  };
}

