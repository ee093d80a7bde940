import { createHash } from 'node:crypto';
import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import pg from 'pg';
import { Clock } from '../../common/clock.js';
import { ConflictError, DomainError, NotFoundError } from '../../common/errors.js';
import { CONFIG, type Config } from '../../config/config.js';
import { canonicalJson } from '../../dags/domain/content-hash.js';
import { PG_POOL } from '../../database/pg.js';
import { Transactions } from '../../database/transactions.js';
import { LruCache } from '../runs/domain/lru-cache.js';
import { RunEngine, type AttemptOutcome } from '../runs/run-engine.service.js';
import { RunsRepository, type QuietFinish } from '../runs/runs.repository.js';
import { TemplateError } from '../../templating/domain/template-error.js';
import type { ApiKeyRow } from '../../auth/domain/api-key.js';
import { requestContext } from '../../access/request-context.js';
import { Lifecycle } from '../../lifecycle/lifecycle.js';
import { attemptFields } from '../../logging/log-fields.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { TaskNotInVersion, TaskRenderer, type MappedInstance } from './task-renderer.service.js';
import { shareToPassOn } from './domain/waiters.js';
import { GroupCommit, KeyedGroupCommit, oneByOne, type ItemResult } from './domain/group-commit.js';
import { LeasesRepository, type ClaimedTask } from './leases.repository.js';
import { LeaseHandOff } from './lease-hand-off.js';
import { QueueWakeups, type WaiterClaim } from './queue-wakeups.service.js';
import { TaskLogsService } from './task-logs.service.js';

/** How often a request whose work a pool or DAG limit holds back looks again, besides freed-slot wake-ups. */
const LIMIT_RECHECK_MS = 1000;
/**
 * How often this process records a polling worker that claims nothing (a claim records it anyway). Well under
 * QUEUE_IDLE_SEC, past which a queued task says no worker polls its queue.
 */
const POLL_RECORD_MS = 10_000;

export type LeaseRequest = { queues: string[]; capacity: number; waitSeconds: number; taskTypes?: string[]; hostname?: string };

/** What a worker receives for one leased task (DESIGN §5). */
export type Lease = {
  leaseId: string;
  dagId: string;
  runId: string;
  taskId: string;
  taskType: string;
  /** Position among a mapped task's instances (0…n−1); −1 for an unmapped task. */
  mapIndex: number;
  /** A mapped instance's values of its task's `expand` keys; absent when unmapped. */
  expand?: Record<string, unknown>;
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

/**
 * A completion's outcome, with the worker that held the lease and its subscription (for complete-and-lease-next;
 * none for a repeated completion) and what the completion's own transaction claimed for that worker's next request.
 */
type AttemptEnd = {
  result: CompleteResult;
  workerId?: string;
  worker?: { queues: string[]; taskTypes: string[] } | null;
  handed?: ClaimedTask[] | null;
};

/** One quiet completion (weft_finish_quietly_many). */
type QuietItem = {
  leaseId: string;
  callerKeyId: string | null;
  tryNumber: number;
  to: 'success' | 'up_for_retry';
  now: Date;
  error: string | null;
  nextRetryAt: Date | null;
  completionHash: string;
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
  /**
   * Attempts claimed in this process, by lease id, for the one-statement completion (completeQuietly); a lease
   * completed through another replica, or pushed out of this bounded cache, completes the general way.
   */
  private readonly claimedHere = new LruCache<string, { dagVersionId: number; dagRunId: number; taskId: string; tryNumber: number; maxTries: number }>(100_000);
  /**
   * Group commit of quiet completions (WEFT_GROUP_COMMIT_MAX_ITEMS; docs/performance.md): one in flight per
   * process; those that arrive meanwhile are served together, one statement, when it ends. Null when off.
   */
  private readonly quietEnds: GroupCommit<QuietItem, QuietFinish> | null;
  /** Group commit of lease requests' own claims, per queue set and task types; null when off. */
  private readonly claims: KeyedGroupCommit<WaiterClaim, { tasks: ClaimedTask[]; blocked: boolean; now: Date }> | null;
  /** Open lease requests per worker id in this process (WEFT_MAX_POLLS_PER_WORKER). */
  private readonly polls = new Map<string, number>();
  /** When this process last recorded each worker's poll, and what it polled for. */
  private readonly recordedPolls = new Map<string, { at: number; what: string }>();

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly transactions: Transactions,
    @Inject(CONFIG) private readonly config: Config,
    private readonly clock: Clock,
    private readonly leases: LeasesRepository,
    private readonly runs: RunsRepository,
    private readonly engine: RunEngine,
    private readonly wakeups: QueueWakeups,
    private readonly handOff: LeaseHandOff,
    private readonly lifecycle: Lifecycle,
    private readonly metrics: MetricsService,
    private readonly taskLogs: TaskLogsService,
    private readonly renderer: TaskRenderer,
  ) {
    this.quietEnds = config.groupCommitMaxItems > 0
      ? new GroupCommit((items) => this.serveQuietEnds(items), config.groupCommitMaxItems, (n) => metrics.groupCommitItems.observe({ kind: 'complete' }, n), undefined, config.groupCommitInFlight)
      : null;
    this.claims = config.groupCommitMaxItems > 0
      ? new KeyedGroupCommit((reqs) => this.serveClaims(reqs), config.groupCommitMaxItems, (n) => metrics.groupCommitItems.observe({ kind: 'claim' }, n), config.groupCommitInFlight)
      : null;
  }

  /**
   * Claims up to `capacity` tasks; when none is eligible, holds the request until one is queued on a listed
   * queue (NOTIFY wake-up) or `waitSeconds` pass, then answers with what it has (possibly nothing).
   */
  async lease(workerId: string, req: LeaseRequest, clientGone?: AbortSignal): Promise<Lease[]> {
    const key = requestContext.getStore()?.apiKey;
    checkWorkerScope(key, req);
    // A draining replica takes no new long polls; the worker retries (through the load balancer, another replica).
    if (this.lifecycle.draining) throw new DomainError('UNAVAILABLE', 'this API replica is shutting down; retry the lease request');
    req.waitSeconds = Math.min(req.waitSeconds, this.config.leaseMaxWaitSec);
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
    // A shutdown (Lifecycle drain) answers every waiting poll at once, with nothing.
    const drain = this.lifecycle.drainSignal;
    const signal = clientGone ? AbortSignal.any([clientGone, drain]) : drain;
    const filtered = Boolean(req.taskTypes?.length);
    // What the wake-up that started this round expects this request to take (see shareToPassOn).
    let share = 0;
    let wokenBy: string | null = null;
    let blocked = false;
    const claimReq = this.claimRequest(workerId, req, apiKeyId);
    await this.recordPoll(claimReq);
    for (;;) {
      if (signal.aborted) return [];
      await this.wakeups.ensureListening();
      // Subscribe before looking, so work queued between the look and the wait still wakes us.
      const ticket = this.wakeups.subscribe(req.queues, req.capacity, blocked, claimReq);
      try {
        const claim = await this.claimOnce(claimReq);
        const claimed = claim.leases.length;
        this.wakeups.passOn(wokenBy, shareToPassOn({ share, claimed, capacity: req.capacity, filtered }));
        if (claimed || Date.now() >= deadline || signal.aborted) {
          // Woken while this claim was under way: it may not have seen that work, so others get a look.
          if (ticket.waiter.woken) this.wakeups.passOn(ticket.waiter.wokenBy, ticket.waiter.share);
          return claim.leases;
        }
        blocked = claim.blocked;
        // Held back now although it subscribed as an ordinary waiter (its first look): freed slots wake it from here on.
        if (blocked) ticket.holdForSlots();
        // Held back by a pool or DAG limit: freed slots wake us, and we look again now and then regardless
        // (completions announce freed slots only while a limit is nearly reached).
        const wait = Math.max(0, deadline - Date.now());
        await ticket.wait(blocked ? Math.min(wait, LIMIT_RECHECK_MS) : wait, signal);
        if (ticket.waiter.handed) {
          // A transaction that queued work claimed it for this request before it committed (QueueWakeups).
          const leases = await this.accept(ticket.waiter.handed, this.clock.now());
          if (leases.length || Date.now() >= deadline || signal.aborted) return leases;
          share = 0;
          wokenBy = null;
          continue;
        }
        if (signal.aborted) {
          // Gone (client or shutdown) after a wake-up: the work it was woken for goes to the next waiter.
          this.wakeups.passOn(ticket.waiter.wokenBy, ticket.waiter.share);
          return [];
        }
        share = ticket.waiter.share;
        wokenBy = ticket.waiter.wokenBy;
      } finally {
        ticket.cancel();
      }
    }
  }

  /** An app closed without the CLI's drain (tests, embedding) still answers its waiting polls first. */
  beforeApplicationShutdown(): void {
    this.lifecycle.beginDrain();
  }

  private async claimOnce(req: WaiterClaim): Promise<{ leases: Lease[]; blocked: boolean }> {
    if (this.claims) {
      // Requests for the same queues and task types gather while one of their claims is in flight (group commit).
      const { tasks, blocked, now } = await this.claims.submit(JSON.stringify([req.queues, req.taskTypes]), req);
      return { leases: await this.accept(tasks, now), blocked };
    }
    const now = this.clock.now();
    const { tasks, blocked } = await this.leases.claim(this.pool, { ...req, now });
    return { leases: await this.accept(tasks, now), blocked };
  }

  /**
   * Serves the gathered claims of one queue set with one statement (LeasesRepository.claimMany): the requests in
   * arrival order, each getting its share of the tasks in claim order. Should that statement fail as a whole (it
   * committed nothing), each request claims on its own.
   */
  private async serveClaims(reqs: WaiterClaim[]): Promise<ItemResult<{ tasks: ClaimedTask[]; blocked: boolean; now: Date }>[]> {
    const now = this.clock.now();
    const one = async (r: WaiterClaim) => ({ ...(await this.leases.claim(this.pool, { ...r, now })), now });
    if (reqs.length === 1) return oneByOne(reqs, one);
    try {
      const got = await this.leases.claimMany(this.pool, reqs, now);
      return got.map((g) => ({ ok: true, value: { ...g, now } }));
    } catch (err) {
      this.logger.warn({ msg: `a batch of ${reqs.length} lease claims failed as a whole (${(err as Error).message}); each runs on its own` });
      this.metrics.groupCommitFallbacks.inc({ kind: 'claim' });
      return oneByOne(reqs, one);
    }
  }

  /** Tasks claimed for a request (by its own claim or a hand-off), rendered for the worker. */
  private async accept(tasks: ClaimedTask[], now: Date): Promise<Lease[]> {
    const leases: Lease[] = [];
    // Instances of mapped tasks carry their map index and expand values (one statement for the batch; none without).
    const mapped = await this.renderer.mappedInstances(this.pool, tasks);
    for (const c of tasks) {
      this.claimedHere.set(c.leaseId, { dagVersionId: c.dagVersionId, dagRunId: c.dagRunId, taskId: c.taskId, tryNumber: c.tryNumber, maxTries: c.maxTries });
      this.metrics.leasesGranted.inc({ queue: c.queue });
      if (c.queuedAt) this.metrics.dispatchLatency.observe({ queue: c.queue }, Math.max(0, now.getTime() - c.queuedAt.getTime()) / 1000);
      const lease = await this.render(c, mapped.get(c.taskInstanceId));
      if (lease) leases.push(lease);
    }
    return leases;
  }

  /** Renders a claimed task (TaskRenderer); a template error fails the attempt (not retryable: the same input fails again). */
  private async render(c: ClaimedTask, instance?: MappedInstance): Promise<Lease | null> {
    try {
      const { mapIndex, expand, params, upstreamXcom, task } = await this.renderer.render(this.pool, c, instance);
      return {
        leaseId: c.leaseId,
        dagId: c.dagId,
        runId: c.runId,
        taskId: c.taskId,
        taskType: c.taskType,
        mapIndex,
        ...(expand ? { expand } : {}),
        queue: c.queue,
        tryNumber: c.tryNumber,
        maxTries: c.maxTries,
        leaseExpiresAt: c.leaseExpiresAt,
        heartbeatIntervalSec: this.config.heartbeatIntervalSec,
        executionDeadline: c.deadlineAt,
        logicalDate: c.logicalDate,
        dataIntervalStart: c.dataIntervalStart,
        dataIntervalEnd: c.dataIntervalEnd,
        params,
        conf: c.conf,
        upstreamXcom,
        task,
      };
    } catch (err) {
      if (!(err instanceof TemplateError) && !(err instanceof TaskNotInVersion)) throw err;
      const error = `rendering the task failed: ${(err as Error).message}`;
      this.logger.warn({ msg: `${c.dagId}/${c.runId}/${c.taskId} try ${c.tryNumber}: ${error}`, ...attemptFields(c) });
      await this.complete(c.leaseId, { status: 'failed', error, retryable: false });
      return null;
    }
  }

  /**
   * Extends the lease; 409 when it is gone (the worker must stop the task). A lease past its expiry that the reaper
   * has not ended yet is extended like any other (the same answer a completion would get: accepted). A cancelled
   * lease (clear, mark, execution timeout) answers cancelRequested: the worker stops the task and reports.
   */
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
    return (await this.completeAttempt(leaseId, req)).result;
  }

  /**
   * complete(), and the worker that held the lease with its subscription (for complete-and-lease-next; none for a
   * repeated completion). Statements: lock the attempt (run, task instance, lease), [XCom], the attempt's end with
   * the run's task states, [the evaluation's changes], between BEGIN and COMMIT.
   */
  private async completeAttempt(
    leaseId: string,
    req: CompleteRequest,
    next?: Partial<LeaseRequest>,
  ): Promise<AttemptEnd> {
    const hash = createHash('sha256').update(canonicalJson(req)).digest('hex');
    const now = this.clock.now();
    const quiet = await this.completeQuietly(leaseId, req, hash, now);
    if (quiet) return quiet;
    const done = await this.transactions.run(async (db) => {
      const attempt = await this.runs.lockAttempt(db, leaseId);
      if (!attempt) return null;
      const { run, ti, lease } = attempt;
      this.assertOwner(lease.apiKeyId);
      if (ti.state !== 'running' || ti.tryNumber !== lease.tryNumber) return null;
      // Complete-and-lease-next: what this transaction queues goes to this worker's next request (LeaseHandOff).
      const nextClaim = next ? this.nextClaim(lease.workerId, next, attempt.worker) : null;
      const preferred = nextClaim ? db.effect(this.handOff).prefer(nextClaim) : null;
      if (req.status === 'success' && req.xcom) await this.leases.insertXcom(db, { ...ti, taskInstanceId: ti.id }, req.xcom);
      const outcome = await this.engine.finishAttempt(db, run, ti, req, now, { id: leaseId, completionHash: hash });
      return {
        preferred,
        taskState: outcome.state,
        runState: outcome.runState,
        dagId: run.dagId,
        taskId: ti.taskId,
        startDate: ti.startDate,
        workerId: lease.workerId,
        worker: attempt.worker,
      };
    });
    if (!done) return { result: await this.repeatedCompletion(leaseId, hash) };
    if (done.startDate) {
      const seconds = Math.max(0, now.getTime() - done.startDate.getTime()) / 1000;
      this.metrics.taskDuration.observe({ dag_id: done.dagId, task_id: done.taskId, state: done.taskState }, seconds);
    }
    return {
      result: { taskState: done.taskState, runState: done.runState, duplicate: false },
      workerId: done.workerId,
      worker: done.worker,
      handed: done.preferred?.tasks,
    };
  }

  /**
   * The claim complete-and-lease-next's request would make, for a hand-off inside the completion; null when that
   * request would be refused or could not claim (the lease call after the completion then answers as usual).
   */
  private nextClaim(
    workerId: string,
    next: Partial<LeaseRequest>,
    worker: { queues: string[]; taskTypes: string[] } | null,
  ): WaiterClaim | null {
    if (this.lifecycle.draining) return null;
    const req = this.nextRequest(next, worker);
    const key = requestContext.getStore()?.apiKey;
    try {
      checkWorkerScope(key, req);
    } catch {
      return null;
    }
    if (!req.queues.length) return null;
    return this.claimRequest(workerId, req, key?.id ?? null);
  }

  /** What a lease request claims with (its own claims, and a hand-off's on its behalf). */
  private async recordPoll(w: WaiterClaim): Promise<void> {
    const what = JSON.stringify([w.hostname, w.queues, w.taskTypes, w.capacity]);
    const last = this.recordedPolls.get(w.workerId);
    const at = Date.now();
    if (last && last.what === what && at - last.at < POLL_RECORD_MS) return;
    await this.leases.recordPoll(this.pool, w, this.clock.now());
    if (this.recordedPolls.size > 10_000) this.recordedPolls.clear();
    this.recordedPolls.set(w.workerId, { at, what });
  }

  private claimRequest(workerId: string, req: LeaseRequest, apiKeyId: string | null): WaiterClaim {
    return {
      workerId,
      queues: req.queues,
      taskTypes: req.taskTypes?.length ? req.taskTypes : null,
      capacity: req.capacity,
      leaseTtlSec: this.config.leaseTtlSec,
      apiKeyId,
      hostname: req.hostname ?? null,
    };
  }

  private nextRequest(next: Partial<LeaseRequest>, worker: { queues: string[]; taskTypes: string[] } | null | undefined): LeaseRequest {
    return {
      queues: next.queues ?? worker?.queues ?? [],
      capacity: next.capacity ?? 1,
      waitSeconds: next.waitSeconds ?? 0,
      taskTypes: next.taskTypes ?? worker?.taskTypes,
      hostname: next.hostname,
    };
  }

  /**
   * The one-statement completion (weft_finish_quietly_many) of an attempt this process claimed, when nothing needs
   * evaluating: it goes up for retry, or it succeeded on a task nothing depends on while its run has other work.
   * Null when it does not apply (the transaction of completeAttempt does it all).
   */
  private async completeQuietly(
    leaseId: string,
    req: CompleteRequest,
    hash: string,
    now: Date,
  ): Promise<AttemptEnd | null> {
    const mine = this.claimedHere.get(leaseId);
    if (!mine) return null;
    this.claimedHere.delete(leaseId);
    if (req.status === 'success' && req.xcom && Object.keys(req.xcom).length) return null;
    const end = await this.engine.quietEnd(this.pool, mine, req, now);
    if (!end) return null;
    const item: QuietItem = {
      leaseId,
      callerKeyId: requestContext.getStore()?.apiKey?.id ?? null,
      tryNumber: mine.tryNumber,
      to: end.to,
      now,
      error: req.error ?? null,
      nextRetryAt: end.retryAt,
      completionHash: hash,
    };
    // Answered only once the statement that wrote it has committed (its batch's, or its own): no write-behind.
    const r = this.quietEnds ? await this.quietEnds.submit(item) : await this.finishQuietly(item);
    if (r.outcome !== 'done') {
      if (r.outcome === 'forbidden') throw notLeaseOwner();
      return r.outcome === 'stale' ? { result: await this.repeatedCompletion(leaseId, hash) } : null;
    }
    if (r.startDate) {
      const seconds = Math.max(0, now.getTime() - r.startDate.getTime()) / 1000;
      this.metrics.taskDuration.observe({ dag_id: r.dagId, task_id: mine.taskId, state: end.to }, seconds);
    }
    return { result: { taskState: end.to, runState: r.runState, duplicate: false }, workerId: r.workerId, worker: r.worker };
  }

  private async finishQuietly(item: QuietItem): Promise<QuietFinish> {
    return (await this.runs.finishQuietlyMany(this.pool, [item]))[0]!;
  }

  /**
   * Serves a batch of quiet completions by one statement (RunsRepository.finishQuietlyMany, which locks the batch's
   * runs in run order, so two replicas' batches take them in the same order). Should that statement fail as a whole
   * (it committed nothing), each completion runs on its own.
   */
  private async serveQuietEnds(items: QuietItem[]): Promise<ItemResult<QuietFinish>[]> {
    const one = (a: QuietItem) => this.finishQuietly(a);
    if (items.length === 1) return oneByOne(items, one);
    try {
      return (await this.runs.finishQuietlyMany(this.pool, items)).map((value) => ({ ok: true, value }));
    } catch (err) {
      this.logger.warn({ msg: `a batch of ${items.length} completions failed as a whole (${(err as Error).message}); each runs on its own` });
      this.metrics.groupCommitFallbacks.inc({ kind: 'complete' });
      return oneByOne(items, one);
    }
  }

  /** Complete, then (when asked) lease the same worker's next tasks in the same round trip. */
  async completeAndLeaseNext(
    leaseId: string,
    req: CompleteRequest,
    next?: Partial<LeaseRequest>,
  ): Promise<CompleteResult & { leases?: Lease[] }> {
    const { result, workerId, worker, handed } = await this.completeAttempt(leaseId, req, next);
    // Claimed for this request by the completion's own transaction: no lease call needed.
    if (handed?.length) return { ...result, leases: await this.accept(handed, this.clock.now()) };
    if (!next || !workerId) return result;
    // Draining: the completion counts, but no new work is handed out here.
    if (this.lifecycle.draining) return { ...result, leases: [] };
    return { ...result, leases: await this.lease(workerId, this.nextRequest(next, worker)) };
  }

  async appendLogs(leaseId: string, lines: { line: string; stream: string }[]): Promise<void> {
    const lease = await this.leases.findLease(this.pool, leaseId);
    if (!lease) throw await this.staleLease(leaseId);
    this.assertOwner(lease.apiKeyId);
    await this.taskLogs.append(lease.taskInstanceId, lease.tryNumber, lines, this.clock.now());
  }

  /** A lease belongs to the key that took it; no other key may heartbeat, log to or complete it. */
  private async checkOwner(leaseId: string): Promise<void> {
    const lease = await this.leases.findLease(this.pool, leaseId);
    if (lease) this.assertOwner(lease.apiKeyId);
  }

  private assertOwner(owner: string | null): void {
    const caller = requestContext.getStore()?.apiKey;
    if (owner && caller && caller.id !== owner) throw notLeaseOwner();
  }

  private async repeatedCompletion(leaseId: string, hash: string): Promise<CompleteResult> {
    const attempt = await this.leases.findTryByLease(this.pool, leaseId);
    if (attempt?.completionHash === hash) {
      return { taskState: attempt.state, runState: attempt.runState, duplicate: true };
    }
    // A cancelled attempt's worker has stopped the task and reports: its lease, and the pool slots it held, go now.
    if (await this.leases.releaseCancelled(this.pool, leaseId, requestContext.getStore()?.apiKey?.id ?? null)) {
      throw new ConflictError(`lease ${leaseId} was cancelled (cleared, marked or past its execution timeout); its result is discarded`, 'lease_lost');
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

function notLeaseOwner(): DomainError {
  return new DomainError('FORBIDDEN', 'this lease belongs to another API key', { reason: 'not_lease_owner' });
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
