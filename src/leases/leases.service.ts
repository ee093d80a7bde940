import { createHash } from 'node:crypto';
import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import pg from 'pg';
import { Clock } from '../common/clock.js';
import { ConflictError, DomainError, NotFoundError } from '../common/errors.js';
import { CONFIG, type Config } from '../config/config.js';
import { canonicalJson } from '../dags/domain/content-hash.js';
import { inTransaction, PG_POOL } from '../database/pg.js';
import { RunEngine, type AttemptOutcome } from '../runs/run-engine.service.js';
import { RunsRepository } from '../runs/runs.repository.js';
import { RunsService } from '../runs/runs.service.js';
import { buildTemplateContext } from '../templating/domain/template-context.js';
import { TemplateError } from '../templating/domain/template-error.js';
import type { ApiKeyRow } from '../auth/api-keys.repository.js';
import { requestContext } from '../auth/request-context.js';
import { renderTaskPayload } from './domain/render-task.js';
import { LeasesRepository, type ClaimedTask } from './leases.repository.js';
import { QueueWakeups } from './queue-wakeups.service.js';

export type LeaseRequest = { queues: string[]; capacity: number; waitSeconds: number; taskTypes?: string[]; hostname?: string };

/** What a worker receives for one leased task (DESIGN §5). */
export type Lease = {
  leaseId: string;
  dagId: string;
  runId: string;
  taskId: string;
  taskType: string;
  queue: string;
  tryNumber: number;
  maxTries: number;
  leaseExpiresAt: Date;
  heartbeatIntervalSec: number;
  executionDeadline: Date | null;
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  params: Record<string, unknown>;
  conf: Record<string, unknown>;
  upstreamXcom: Record<string, Record<string, unknown>>;
  task: Record<string, unknown>;
};

export type CompleteRequest = AttemptOutcome & { xcom?: Record<string, unknown> };
export type CompleteResult = { taskState: string; runState: string; duplicate: boolean };

/**
 * The worker lease protocol: claim (with long-poll), heartbeat, complete, logs. Fencing is by lease id: a
 * lease row exists only while its attempt is the live one.
 */
@Injectable()
export class LeasesService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('leases');
  /** Aborted when the process starts shutting down: waiting polls answer at once, with nothing. */
  private readonly draining = new AbortController();
  /** Open lease requests per worker id in this process (WEFT_MAX_POLLS_PER_WORKER). */
  private readonly polls = new Map<string, number>();

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(CONFIG) private readonly config: Config,
    private readonly clock: Clock,
    private readonly leases: LeasesRepository,
    private readonly runs: RunsRepository,
    private readonly engine: RunEngine,
    private readonly wakeups: QueueWakeups,
    private readonly runsService: RunsService,
  ) {}

  /**
   * Claims up to `capacity` tasks; when none is eligible, holds the request until one is queued on a listed
   * queue (NOTIFY wake-up) or `waitSeconds` pass, then answers with what it has (possibly nothing).
   */
  async lease(workerId: string, req: LeaseRequest, clientGone?: AbortSignal): Promise<Lease[]> {
    const key = requestContext.getStore()?.apiKey;
    checkWorkerScope(key, req);
    const polling = this.polls.get(workerId) ?? 0;
    if (polling >= this.config.maxPollsPerWorker) {
      throw new DomainError('RATE_LIMITED', `worker '${workerId}' already has ${polling} lease requests open (WEFT_MAX_POLLS_PER_WORKER)`);
    }
    this.polls.set(workerId, polling + 1);
    try {
      return await this.leaseLoop(workerId, req, key?.id ?? null, clientGone);
    } finally {
      const left = (this.polls.get(workerId) ?? 1) - 1;
      if (left) this.polls.set(workerId, left);
      else this.polls.delete(workerId);
    }
  }

  private async leaseLoop(workerId: string, req: LeaseRequest, apiKeyId: string | null, clientGone?: AbortSignal): Promise<Lease[]> {
    const deadline = Date.now() + req.waitSeconds * 1000;
    const signal = clientGone ? AbortSignal.any([clientGone, this.draining.signal]) : this.draining.signal;
    for (;;) {
      if (signal.aborted) return [];
      await this.wakeups.ensureListening();
      // Subscribe before looking, so work queued between the look and the wait still wakes us.
      const controller = new AbortController();
      const onAbort = () => controller.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      const woken = this.wakeups.wait(req.queues, Math.max(0, deadline - Date.now()), controller.signal);
      try {
        const leases = await this.claimOnce(workerId, req, apiKeyId);
        if (leases.length || Date.now() >= deadline || signal.aborted) return leases;
        await woken;
        if (signal.aborted) return [];
        if (Date.now() >= deadline) return this.claimOnce(workerId, req, apiKeyId);
      } finally {
        controller.abort();
        signal.removeEventListener('abort', onAbort);
      }
    }
  }

  beforeApplicationShutdown(): void {
    this.draining.abort();
  }

  private async claimOnce(workerId: string, req: LeaseRequest, apiKeyId: string | null): Promise<Lease[]> {
    const now = this.clock.now();
    const claimed = await inTransaction(this.pool, (db) =>
      this.leases.claim(db, {
        workerId,
        queues: req.queues,
        taskTypes: req.taskTypes?.length ? req.taskTypes : null,
        capacity: req.capacity,
        leaseTtlSec: this.config.leaseTtlSec,
        apiKeyId,
        hostname: req.hostname ?? null,
        now,
      }),
    );
    const leases: Lease[] = [];
    for (const c of claimed) {
      const lease = await this.render(c);
      if (lease) leases.push(lease);
    }
    return leases;
  }

  /** Renders a claimed task; a template error fails the attempt (not retryable: the same input fails again). */
  private async render(c: ClaimedTask): Promise<Lease | null> {
    const { doc } = await this.engine.version(this.pool, c.dagVersionId);
    const task = doc.tasks.find((t) => t.taskId === c.taskId);
    try {
      if (!task) throw new Error(`task '${c.taskId}' is not in DAG version ${c.dagVersionId}`);
      const upstreamXcom = await this.leases.upstreamXcom(this.pool, c.dagRunId, task.xcomPull ?? []);
      const context = buildTemplateContext({ ...c, params: doc.params, conf: c.conf, xcom: upstreamXcom });
      return {
        leaseId: c.leaseId,
        dagId: c.dagId,
        runId: c.runId,
        taskId: c.taskId,
        taskType: c.taskType,
        queue: c.queue,
        tryNumber: c.tryNumber,
        maxTries: c.maxTries,
        leaseExpiresAt: c.leaseExpiresAt,
        heartbeatIntervalSec: this.config.heartbeatIntervalSec,
        executionDeadline: c.deadlineAt,
        logicalDate: c.logicalDate,
        dataIntervalStart: c.dataIntervalStart,
        dataIntervalEnd: c.dataIntervalEnd,
        params: doc.params,
        conf: c.conf,
        upstreamXcom,
        task: renderTaskPayload(task, context),
      };
    } catch (err) {
      if (!(err instanceof TemplateError) && task) throw err;
      const error = `rendering the task failed: ${(err as Error).message}`;
      this.logger.warn(`${c.dagId}/${c.runId}/${c.taskId} try ${c.tryNumber}: ${error}`);
      await this.complete(c.leaseId, { status: 'failed', error, retryable: false });
      return null;
    }
  }

  /** Extends the lease; 409 when it is no longer the live attempt (the worker must stop the task). */
  async heartbeat(leaseId: string): Promise<{ leaseExpiresAt: Date; cancelRequested: boolean }> {
    await this.checkOwner(leaseId);
    const now = this.clock.now();
    const hb = await this.leases.heartbeat(this.pool, leaseId, now, this.config.leaseTtlSec);
    if (hb) return { leaseExpiresAt: hb.expiresAt, cancelRequested: hb.cancelRequested };
    throw await this.staleLease(leaseId);
  }

  /**
   * Records the attempt's outcome, publishes its XCom and evaluates downstream tasks in one transaction.
   * The same payload again answers as before; anything for an attempt that is no longer live is a 409.
   */
  async complete(leaseId: string, req: CompleteRequest): Promise<CompleteResult> {
    const hash = createHash('sha256').update(canonicalJson(req)).digest('hex');
    const now = this.clock.now();
    const lease = await this.leases.findLease(this.pool, leaseId);
    if (lease) this.assertOwner(lease.apiKeyId);
    if (!lease) return this.repeatedCompletion(leaseId, hash);
    const result = await inTransaction(this.pool, async (db) => {
      // Lock order everywhere: run, then task instance, then lease.
      const run = await this.runs.lockRun(db, lease.dagRunId);
      const ti = await this.runs.lockTaskInstance(db, lease.taskInstanceId);
      const live = await this.leases.findLease(db, leaseId, true);
      if (!run || !ti || !live || ti.state !== 'running' || ti.tryNumber !== live.tryNumber) return null;
      await this.leases.deleteLease(db, leaseId);
      if (req.status === 'success' && req.xcom) await this.leases.insertXcom(db, { ...ti, taskInstanceId: ti.id }, req.xcom);
      await this.leases.setCompletionHash(db, leaseId, hash);
      const outcome = await this.engine.finishAttempt(db, run, ti, req, now);
      return { taskState: outcome.state, runState: outcome.runState, dagId: run.dagId, runFinished: outcome.runState !== run.state };
    });
    if (!result) return this.repeatedCompletion(leaseId, hash);
    if (result.runFinished) await this.runsService.startQueuedRuns(result.dagId, now);
    return { taskState: result.taskState, runState: result.runState, duplicate: false };
  }

  /** Complete, then (when asked) lease the same worker's next tasks in the same round trip. */
  async completeAndLeaseNext(
    leaseId: string,
    req: CompleteRequest,
    next?: Partial<LeaseRequest>,
  ): Promise<CompleteResult & { leases?: Lease[] }> {
    const workerId = next ? (await this.leases.findLease(this.pool, leaseId))?.workerId : undefined;
    const result = await this.complete(leaseId, req);
    if (!next || !workerId) return result;
    const seen = await this.leases.workerSubscription(this.pool, workerId);
    const leases = await this.lease(workerId, {
      queues: next.queues ?? seen?.queues ?? [],
      capacity: next.capacity ?? 1,
      waitSeconds: next.waitSeconds ?? 0,
      taskTypes: next.taskTypes ?? seen?.taskTypes,
      hostname: next.hostname,
    });
    return { ...result, leases };
  }

  async appendLogs(leaseId: string, lines: { line: string; stream: string }[]): Promise<void> {
    const lease = await this.leases.findLease(this.pool, leaseId);
    if (!lease) throw await this.staleLease(leaseId);
    this.assertOwner(lease.apiKeyId);
    await this.leases.appendLogs(this.pool, lease.taskInstanceId, lease.tryNumber, lines, this.clock.now());
  }

  /** A lease belongs to the key that took it; no other key may heartbeat, log to or complete it. */
  private async checkOwner(leaseId: string): Promise<void> {
    const lease = await this.leases.findLease(this.pool, leaseId);
    if (lease) this.assertOwner(lease.apiKeyId);
  }

  private assertOwner(owner: string | null): void {
    const caller = requestContext.getStore()?.apiKey;
    if (owner && caller && caller.id !== owner) {
      throw new DomainError('FORBIDDEN', 'this lease belongs to another API key', { reason: 'not_lease_owner' });
    }
  }

  private async repeatedCompletion(leaseId: string, hash: string): Promise<CompleteResult> {
    const attempt = await this.leases.findTryByLease(this.pool, leaseId);
    if (attempt?.completionHash === hash) {
      return { taskState: attempt.state, runState: attempt.runState, duplicate: true };
    }
    throw await this.staleLease(leaseId);
  }

  private async staleLease(leaseId: string): Promise<DomainError> {
    const attempt = await this.leases.findTryByLease(this.pool, leaseId);
    if (!attempt) return new NotFoundError('lease', leaseId);
    if (attempt.completionHash) {
      return new ConflictError(`lease ${leaseId} was already completed with a different result`, 'already_completed');
    }
    return new ConflictError(`lease ${leaseId} is no longer the live attempt (expired, cleared or marked)`, 'lease_lost');
  }
}

/** A worker key limited to queues or task types may lease only those. */
function checkWorkerScope(key: ApiKeyRow | undefined, req: LeaseRequest): void {
  if (!key || key.role !== 'worker') return;
  if (key.queues.length) {
    const outside = req.queues.filter((q) => !key.queues.includes(q));
    if (outside.length) throw new DomainError('FORBIDDEN', `this worker key may not lease from queue(s) ${outside.join(', ')}`, [{ path: 'queues', message: 'outside the key\'s queues' }]);
  }
  if (key.taskTypes.length) {
    if (!req.taskTypes?.length) req.taskTypes = key.taskTypes;
    const outside = req.taskTypes.filter((t) => !key.taskTypes.includes(t));
    if (outside.length) throw new DomainError('FORBIDDEN', `this worker key may not lease task type(s) ${outside.join(', ')}`, [{ path: 'taskTypes', message: 'outside the key\'s task types' }]);
  }
}
