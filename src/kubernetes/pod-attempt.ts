import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { cancelledResult, type CancelReason, type ExecutionResult } from '../worker/executors/executor.js';
import { deliver } from '../worker/delivery.js';
import { LeaseLostError, type LeaseClient } from '../worker/lease-client.js';
import { outcomeAnnotation, podAttemptSettings, recordedOutcome } from './domain/pod-lifecycle.js';
import { readPod } from './domain/pod-outcome.js';
import { ANNOTATION } from './domain/pod-labels.js';
import { KubeError, type KubePods } from './kube-pods.js';
import { LogCopier } from './log-copier.js';
import { errorMessage } from '../common/error-text.js';

export type AttemptDeps = {
  pods: KubePods;
  leases: LeaseClient;
  logger: Logger;
  limits: { maxXcomBytes: number };
  /** How long to wait for the rest of a finished container's log before completing anyway. */
  logDrainMs: number;
};

/** What the attempt needs to know up front (from its lease, or from a found pod's annotations). */
export type AttemptTarget = {
  namespace: string;
  name: string;
  leaseId: string;
  heartbeatIntervalSec: number;
  executionDeadline: string | null;
  startupTimeoutSec: number;
  logCursor: string | null;
};

const RECHECK_MS = 5_000;
const CREATE_TRIES = 4;

/**
 * One attempt running as one pod: heartbeats the lease while the pod lives, copies its log, and completes the lease
 * from the pod's end (readPod), or fails it when the pod stays Pending past its start-up timeout, when the execution
 * deadline passes, or when the pod disappears; deletes the pod when the attempt is cancelled or its lease is lost.
 * The pod's status comes from the launcher's watch (observe / observeGone). Before completing, the outcome is
 * written on the pod, and the acceptance after it, so a launcher restarted at any point completes the attempt once:
 * with the same result (the completion is idempotent), or not at all when the lease API no longer knows the lease.
 */
export class PodAttempt {
  readonly done: Promise<void>;
  private pod: V1Pod | null;
  private uid: string | undefined;
  private gone = false;
  private started = false;
  private cancelRequested = false;
  private leaseLost = false;
  private detached = false;
  /** Aborted by detach(): cuts a completion's retries short (the next launcher completes it from the pod). */
  private readonly detaching = new AbortController();
  private beating = false;
  private lastPendingReason: string | null = null;
  private wake: (() => void) | null = null;
  private readonly log: Logger;
  private readonly logs: LogCopier;
  private startupDeadline: number;
  private readonly executionDeadline: number | null;

  private constructor(
    private readonly deps: AttemptDeps,
    readonly target: AttemptTarget,
    pod: V1Pod | null,
    run: (self: PodAttempt) => Promise<void>,
  ) {
    this.pod = pod;
    this.uid = pod?.metadata?.uid;
    this.log = deps.logger.child({ pod: `${target.namespace}/${target.name}`, leaseId: target.leaseId });
    this.logs = new LogCopier(deps, target, target.logCursor, () => this.containerEnded(), () => this.onLeaseLost());
    const created = pod?.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : Date.now();
    this.startupDeadline = created + target.startupTimeoutSec * 1000;
    this.executionDeadline = target.executionDeadline ? Date.parse(target.executionDeadline) : null;
    this.done = run(this)
      .catch((err: unknown) => this.log.error(`attempt supervision failed: ${errorMessage(err)}`))
      .finally(() => this.logs.close());
  }

  /** Creates the pod of a freshly leased attempt and supervises it. */
  static launch(deps: AttemptDeps, target: AttemptTarget, manifest: V1Pod): PodAttempt {
    return new PodAttempt(deps, target, null, (self) => self.create(manifest));
  }

  /** Takes over a pod found by its labels (after a restart): heartbeat first, and only a live lease is supervised. */
  static adopt(deps: AttemptDeps, pod: V1Pod, leaseId: string): PodAttempt {
    const target: AttemptTarget = { namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, leaseId, ...podAttemptSettings(pod) };
    return new PodAttempt(deps, target, pod, (self) => self.reattach());
  }

  /** The latest state of the pod, from the watch. */
  observe(pod: V1Pod): void {
    if (this.uid && pod.metadata?.uid !== this.uid) return;
    this.pod = pod;
    this.uid ??= pod.metadata?.uid;
    this.notify();
  }

  /** The watch saw the pod deleted. */
  observeGone(uid: string | undefined): void {
    if (this.uid && uid && uid !== this.uid) return;
    this.gone = true;
    this.notify();
  }

  /** Launcher shutdown: stop supervising and leave the pod running; a restarted launcher re-attaches to it. */
  async detach(): Promise<void> {
    this.detached = true;
    this.detaching.abort('detached');
    this.notify();
    await this.done;
  }

  private notify(): void {
    this.wake?.();
    this.wake = null;
  }

  private onLeaseLost(why?: string): void {
    if (why && !this.leaseLost) this.log.info(`lease lost: ${why}`);
    this.leaseLost = true;
    this.notify();
  }

  private containerEnded(): boolean {
    return this.gone || (this.pod !== null && readPod(this.pod, this.deps.limits).kind === 'finished');
  }

  private async create(manifest: V1Pod): Promise<void> {
    const { namespace, name } = this.target;
    try {
      this.observe(await this.createWithRetries(manifest));
      this.logs.note(`pod ${namespace}/${name} created`);
    } catch (err) {
      if (err instanceof KubeError && err.status === 409) {
        // The pod of this attempt exists already (its name comes from dag, run, task and try): the same lease's
        // pod is supervised as it is; one from another lease of this try is not ours to run, so it goes.
        const existing = await this.deps.pods.get(namespace, name);
        if (existing?.metadata?.annotations?.[ANNOTATION.leaseId] === this.target.leaseId) {
          this.observe(existing);
          this.logs.note(`pod ${namespace}/${name} existed already; supervising it`);
        } else {
          if (existing) await this.deps.pods.delete(namespace, name, existing.metadata?.uid);
          await this.end({ status: 'failed', error: `a pod named ${name} from another lease existed; it was deleted`, retryable: true }, false);
          return;
        }
      } else {
        // 422 (invalid spec) and 404 (no such namespace) fail the same way again; the rest (quota, 5xx) may pass later.
        const retryable = !(err instanceof KubeError && (err.status === 400 || err.status === 404 || err.status === 422));
        await this.end({ status: 'failed', error: `creating pod ${namespace}/${name} failed: ${errorMessage(err)}`, retryable }, false);
        return;
      }
    }
    await this.supervise();
  }

  /**
   * Creates the pod, trying again on what a moment may cure (no answer, 429, 5xx): the name is the attempt's, so a
   * create that did succeed unseen answers 409 next time, which create() takes as this lease's pod.
   */
  private async createWithRetries(manifest: V1Pod): Promise<V1Pod> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.pods.create(this.target.namespace, manifest);
      } catch (err) {
        const transient = !(err instanceof KubeError) || err.status === 429 || err.status >= 500;
        if (!transient || attempt >= CREATE_TRIES || this.detached) throw err;
        this.log.warn(`creating the pod failed (${errorMessage(err)}); trying again`);
        await this.pause(500 * 2 ** attempt);
      }
    }
  }

  private async reattach(): Promise<void> {
    const { namespace, name } = this.target;
    // The first heartbeat decides: a lease the API no longer knows means the attempt was reaped, cleared or
    // completed while no launcher watched; its pod is deleted and never completed.
    while (!this.detached && !(await this.beat())) await this.pause(1000);
    if (this.detached) return;
    if (this.leaseLost) {
      this.log.info('re-attach: the lease is no longer live; deleting the pod');
      await this.deps.pods.delete(namespace, name, this.uid);
      return;
    }
    this.logs.note(`launcher re-attached to pod ${namespace}/${name}`);
    const recorded = this.pod ? recordedOutcome(this.pod) : null;
    if (recorded && this.pod && readPod(this.pod, this.deps.limits).kind !== 'finished') {
      // It had decided before it stopped (cancel, start-up timeout, deadline): finish what it started.
      await this.end(recorded, true);
      return;
    }
    await this.supervise();
  }

  private async supervise(): Promise<void> {
    const heartbeat = setInterval(() => void this.beat(), Math.max(1, this.target.heartbeatIntervalSec) * 1000);
    try {
      for (;;) {
        if (this.detached) {
          await this.logs.close();
          return;
        }
        if (this.leaseLost) {
          await this.abandon();
          return;
        }
        if (this.cancelRequested) {
          await this.end(cancelled('cancel_requested'), true);
          return;
        }
        const now = Date.now();
        if (this.executionDeadline !== null && now >= this.executionDeadline) {
          await this.end(cancelled('execution_timeout'), true);
          return;
        }
        const view = this.pod ? readPod(this.pod, this.deps.limits) : { kind: 'pending' as const, reason: null };
        if (view.kind === 'finished') {
          this.logs.start();
          await this.logs.drain(this.deps.logDrainMs);
          await this.end(view.result, false);
          return;
        }
        if (this.gone) {
          await this.end({ status: 'failed', error: `pod ${this.target.namespace}/${this.target.name} was deleted before it finished`, retryable: true }, false);
          return;
        }
        if (view.kind === 'running') {
          if (!this.started) this.logs.note(`pod running on node ${this.pod?.spec?.nodeName ?? '?'}`);
          this.started = true;
          this.logs.start();
        } else if (!this.started) {
          if (view.reason && view.reason !== this.lastPendingReason) this.logs.note(`pod pending: ${view.reason}`);
          this.lastPendingReason = view.reason ?? this.lastPendingReason;
          if (now >= this.startupDeadline) {
            await this.end({ status: 'failed', error: await this.startupFailure(view.reason), retryable: true }, true);
            return;
          }
        }
        const next = Math.min(this.startupDeadline - now, (this.executionDeadline ?? Infinity) - now);
        await this.pause(Math.max(10, Math.min(RECHECK_MS, this.started ? (this.executionDeadline ?? Infinity) - now : next)));
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** The error of a pod that did not start in time: Kubernetes' reason, and its latest warning event if it adds to it. */
  private async startupFailure(reason: string | null): Promise<string> {
    const warnings = await this.deps.pods.warnings(this.target.namespace, this.target.name).catch(() => []);
    const latest = warnings[warnings.length - 1];
    const because = reason ?? latest ?? 'Kubernetes gave no reason';
    const extra = latest && reason && !reason.includes(latest.replace(/^[^:]*: /, '')) ? ` (last event: ${latest})` : '';
    return `pod did not start within ${this.target.startupTimeoutSec} s: ${because}${extra}`;
  }

  /**
   * Ends the attempt with `result`: records it on the pod, deletes the pod if asked, copies the rest of the log,
   * completes the lease (retrying what the network loses) and marks the pod completed for its clean-up.
   */
  private async end(result: ExecutionResult, deletePod: boolean): Promise<void> {
    const { namespace, name } = this.target;
    if (this.pod && !this.gone) {
      await this.deps.pods.annotate(namespace, name, { [ANNOTATION.outcome]: outcomeAnnotation(result) }).catch((err: unknown) => {
        this.log.warn(`recording the outcome on the pod failed: ${errorMessage(err)}`);
      });
    }
    if (deletePod) {
      await this.deps.pods.delete(namespace, name, this.uid).catch((err: unknown) => this.log.warn(`deleting the pod failed: ${errorMessage(err)}`));
      this.logs.note(`pod ${namespace}/${name} deleted`);
    }
    if (result.status === 'failed') this.logs.note(`attempt failed: ${result.error ?? 'no reason'}`);
    await this.logs.close();
    const completion = await this.complete(result);
    // Stopped before the lease API took it: the outcome is on the pod, and the next launcher completes it.
    if (completion === 'detached') return;
    if (completion === 'lost') {
      if (!deletePod) await this.deps.pods.delete(namespace, name, this.uid).catch(() => undefined);
      return;
    }
    this.log.info({ status: result.status }, `attempt ${result.status}${result.error ? `: ${result.error}` : ''}`);
    if (!deletePod) {
      await this.deps.pods.annotate(namespace, name, { [ANNOTATION.completedAt]: new Date().toISOString() }).catch((err: unknown) => {
        this.log.warn(`marking the pod completed failed: ${errorMessage(err)}`);
      });
    }
  }

  /** The lease is lost (cleared, marked, reaped): the server decided, so the pod goes and nothing is completed. */
  private async abandon(): Promise<void> {
    this.log.warn('lease lost: the server no longer counts this attempt; deleting its pod');
    await this.logs.close();
    await this.deps.pods.delete(this.target.namespace, this.target.name, this.uid).catch((err: unknown) => {
      this.log.warn(`deleting the pod failed: ${errorMessage(err)}`);
    });
  }

  /**
   * Completes the lease, retrying what a moment may cure as the built-in worker does (worker/delivery.ts; the
   * heartbeat keeps the lease alive meanwhile). A completion the server refuses for good (a 4xx other than 404/409:
   * say, XCom from the termination message over the size limit) is replaced by a failed one that says why, so the
   * attempt ends instead of being sent again for ever.
   */
  private async complete(result: ExecutionResult): Promise<'accepted' | 'lost' | 'detached'> {
    const retrying = (err: unknown, _attempt: number, delay: number) => this.log.warn(`completing the lease failed (${errorMessage(err)}); retrying in ${delay} ms`);
    let sent = await deliver(() => this.deps.leases.complete(this.target.leaseId, { ...result }), this.detaching.signal, retrying);
    if (sent.outcome === 'refused' && !(sent.error instanceof LeaseLostError)) {
      const because = `the lease API refused the attempt's completion: ${errorMessage(sent.error)}`;
      this.log.warn(because);
      sent = await deliver(
        () => this.deps.leases.complete(this.target.leaseId, { status: 'failed', error: because, retryable: false }),
        this.detaching.signal,
        retrying,
      );
    }
    if (sent.outcome === 'accepted') return 'accepted';
    if (sent.outcome === 'stopped') return 'detached';
    this.log.warn(`completion not accepted (the lease is no longer live): ${errorMessage(sent.error)}`);
    return 'lost';
  }

  /** One heartbeat; true when the lease API answered (live, cancelled or lost), false on a transient failure. */
  private async beat(): Promise<boolean> {
    if (this.beating) return false;
    this.beating = true;
    try {
      const hb = await this.deps.leases.heartbeat(this.target.leaseId);
      if (hb.cancelRequested && !this.cancelRequested) {
        this.cancelRequested = true;
        this.notify();
      }
      return true;
    } catch (err) {
      if (err instanceof LeaseLostError) {
        this.onLeaseLost(errorMessage(err));
        return true;
      }
      this.log.warn(`heartbeat failed: ${errorMessage(err)}`);
      return false;
    } finally {
      this.beating = false;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function cancelled(reason: CancelReason): ExecutionResult {
  const controller = new AbortController();
  controller.abort(reason);
  return cancelledResult(controller.signal);
}
