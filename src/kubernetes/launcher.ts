import type { Informer, ObjectCache, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { leaseLoop } from '../worker/lease-loop.js';
import { LeaseClient, type LeasedTask } from '../worker/lease-client.js';
import { buildPod, type LaunchSettings } from './domain/build-pod.js';
import { cleanupDueAt, foundPodAction } from './domain/pod-lifecycle.js';
import { LABEL, MANAGED_BY } from './domain/pod-labels.js';
import type { KubePods } from './kube-pods.js';
import { PodAttempt, type AttemptDeps } from './pod-attempt.js';
import { errorMessage } from '../common/error-text.js';

export const CONTAINER_TASK_TYPE = 'container';

export type LauncherOptions = {
  apiUrl: string;
  apiKey?: string;
  /** Worker id in the lease API. */
  workerId: string;
  queues: string[];
  /** Most attempts (pods) supervised at once. */
  maxPods: number;
  launch: LaunchSettings;
  /** Completed pods are deleted this long after their completion was accepted (0: at once). */
  podTtlSec: number;
  keepFailedPods: boolean;
  limits: { maxXcomBytes: number };
  pods: KubePods;
  logger: Logger;
  waitSeconds?: number;
  logDrainMs?: number;
  /** How often completed pods are checked for their clean-up. */
  cleanupIntervalMs?: number;
};

type PodInformer = Informer<V1Pod> & ObjectCache<V1Pod>;

/**
 * `weft kubernetes`: a worker of the lease API whose executor is Kubernetes. It leases container tasks from its
 * queues, runs each attempt as one pod (PodAttempt), and keeps a watch on the pods that carry its launcher label: at
 * start (and whenever one shows up unsupervised) it adopts them, fenced by their lease, and it deletes completed pods
 * after their TTL. It needs no database: only the lease API and the Kubernetes API (the documented Role).
 */
export class KubernetesLauncher {
  private readonly client: LeaseClient;
  private readonly deps: AttemptDeps;
  private readonly attempts = new Map<string, PodAttempt>();
  /** Pods whose attempt ended in this process (by uid), so a later watch event does not adopt them again. */
  private readonly ended = new Set<string>();
  private readonly informers: PodInformer[] = [];
  private readonly stopping = new AbortController();
  private loop: Promise<string | undefined> | null = null;
  private slotFreed: (() => void) | null = null;
  private cleanupTimer: NodeJS.Timeout | null = null;
  private readonly deleting = new Set<string>();

  constructor(private readonly opts: LauncherOptions) {
    this.client = new LeaseClient(opts.apiUrl, opts.apiKey);
    this.deps = {
      pods: opts.pods,
      leases: this.client,
      logger: opts.logger,
      limits: opts.limits,
      logDrainMs: opts.logDrainMs ?? 30_000,
    };
  }

  /** Label selector of this launcher's pods. */
  get selector(): string {
    return `${LABEL.managedBy}=${MANAGED_BY},${LABEL.launcher}=${this.opts.launch.launcherId}`;
  }

  /** Watches its pods (adopting those it finds), then starts leasing. */
  async start(): Promise<void> {
    for (const namespace of this.opts.launch.namespaces) {
      const informer = this.opts.pods.informer(namespace, this.selector);
      informer.on('add', (pod) => this.onPod(pod));
      informer.on('update', (pod) => this.onPod(pod));
      informer.on('delete', (pod) => this.onPodDeleted(pod));
      informer.on('error', (err: unknown) => {
        if (this.stopping.signal.aborted) return;
        this.opts.logger.warn({ namespace }, `pod watch failed (${errorMessage(err)}); restarting it`);
        setTimeout(() => void informer.start().catch(() => undefined), 1000).unref();
      });
      await informer.start();
      this.informers.push(informer);
    }
    this.cleanupTimer = setInterval(() => this.cleanUp(), this.opts.cleanupIntervalMs ?? 5000);
    this.opts.logger.info(
      { launcherId: this.opts.launch.launcherId, namespaces: this.opts.launch.namespaces, queues: this.opts.queues, maxPods: this.opts.maxPods, adopted: this.attempts.size },
      'kubernetes launcher started',
    );
    this.loop = this.leaseLoop();
  }

  /** Stops leasing and detaches from running pods, which go on; a launcher started later re-attaches to them. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.slotFreed?.();
    await this.loop;
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    await Promise.all([...this.attempts.values()].map((a) => a.detach()));
    for (const informer of this.informers) await informer.stop();
  }

  private leaseLoop(): Promise<string | undefined> {
    return leaseLoop({
      ...this.opts,
      client: this.client,
      taskTypes: [CONTAINER_TASK_TYPE],
      signal: this.stopping.signal,
      free: () => this.opts.maxPods - this.attempts.size,
      untilFree: () => new Promise<void>((resolve) => (this.slotFreed = resolve)),
      take: (lease) => this.launch(lease),
    });
  }

  /**
   * Resolves when the launcher stops leasing by itself: with the reason when the API refused its key (401/403, also
   * logged as an error), after which `weft kubernetes` exits 1. Never resolves while it keeps leasing.
   */
  async refused(): Promise<string> {
    const reason = await this.loop;
    return reason ?? new Promise<never>(() => undefined);
  }

  private async launch(lease: LeasedTask): Promise<void> {
    const built = buildPod(lease, lease.task, this.opts.launch, new Date());
    if ('error' in built) {
      this.opts.logger.warn({ dagId: lease.dagId, runId: lease.runId, taskId: lease.taskId }, built.error);
      await this.client.logs(lease.leaseId, [{ line: `[weft] ${built.error}`, stream: 'stderr' }]).catch(() => undefined);
      await this.client.complete(lease.leaseId, { status: 'failed', error: built.error, retryable: false }).catch((err: unknown) => {
        this.opts.logger.warn(`completion not accepted: ${errorMessage(err)}`);
      });
      return;
    }
    const key = `${built.namespace}/${built.name}`;
    const attempt = PodAttempt.launch(
      this.deps,
      {
        namespace: built.namespace,
        name: built.name,
        leaseId: lease.leaseId,
        heartbeatIntervalSec: lease.heartbeatIntervalSec,
        executionDeadline: lease.executionDeadline,
        startupTimeoutSec: built.startupTimeoutSec,
        logCursor: null,
      },
      built.pod as V1Pod,
    );
    this.track(key, attempt);
  }

  private track(key: string, attempt: PodAttempt): void {
    this.attempts.set(key, attempt);
    void attempt.done.then(() => {
      if (this.attempts.get(key) === attempt) this.attempts.delete(key);
      const uid = this.podUid(key);
      if (uid) this.ended.add(uid);
      this.slotFreed?.();
      this.slotFreed = null;
    });
  }

  private podUid(key: string): string | undefined {
    const [namespace, name] = key.split('/');
    return this.informers.map((i) => i.get(name!, namespace)).find(Boolean)?.metadata?.uid;
  }

  private onPod(pod: V1Pod): void {
    const key = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
    const attempt = this.attempts.get(key);
    if (attempt) {
      attempt.observe(pod);
      return;
    }
    if (this.stopping.signal.aborted || this.ended.has(pod.metadata?.uid ?? '')) return;
    const found = foundPodAction(pod);
    switch (found.action) {
      case 'cleanup':
        return;
      case 'delete':
        this.opts.logger.warn({ pod: key }, `deleting a pod of this launcher it cannot account for: ${found.reason}`);
        this.delete(pod);
        return;
      case 'adopt':
        this.opts.logger.info({ pod: key, leaseId: found.leaseId }, 'adopting a pod of this launcher');
        this.track(key, PodAttempt.adopt(this.deps, pod, found.leaseId));
        return;
    }
  }

  private onPodDeleted(pod: V1Pod): void {
    const key = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
    this.attempts.get(key)?.observeGone(pod.metadata?.uid);
    this.ended.delete(pod.metadata?.uid ?? '');
    this.deleting.delete(pod.metadata?.uid ?? '');
  }

  /** Deletes completed pods whose TTL has passed (failed ones stay when WEFT_KUBERNETES_KEEP_FAILED_PODS is on). */
  private cleanUp(): void {
    const now = Date.now();
    for (const informer of this.informers) {
      for (const pod of informer.list()) {
        if (this.attempts.has(`${pod.metadata!.namespace}/${pod.metadata!.name}`)) continue;
        const due = cleanupDueAt(pod, { ttlSec: this.opts.podTtlSec, keepFailed: this.opts.keepFailedPods });
        if (due instanceof Date && due.getTime() <= now) this.delete(pod);
      }
    }
  }

  private delete(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (this.deleting.has(uid) || pod.metadata?.deletionTimestamp) return;
    this.deleting.add(uid);
    this.opts.pods.delete(pod.metadata!.namespace!, pod.metadata!.name!, uid).catch((err: unknown) => {
      this.deleting.delete(uid);
      this.opts.logger.warn({ pod: pod.metadata?.name }, `deleting the pod failed: ${errorMessage(err)}`);
    });
  }
}
