import * as k8s from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * The kubelet of the Kubernetes tests, with no container runtime: it registers fake Nodes whose kubelet endpoint is
 * this process's HTTPS server, watches the pods the real kube-scheduler binds to them, drives their status the way a
 * kubelet would (Pending → Running → Succeeded/Failed, OOMKilled, evicted, activeDeadlineSeconds, image pull back-off),
 * serves their logs at /containerLogs/… so that the real API server proxies `pods/log` reads to it, and finishes the
 * deletion of pods the API server marked for deletion. What each container does is a Script the test gives.
 */

export type Ending =
  | { exitCode: number; reason?: string; terminationMessage?: string }
  | { evicted: string };

export type Script = {
  /** The container never starts: the pod stays Pending with this waiting reason (ErrImagePull, ImagePullBackOff …). */
  pullError?: { reason: string; message: string };
  /** Lines written once the container runs. */
  logs?: string[];
  /** How it ends after writing `logs`; absent: it runs until the test calls finish() or the pod is deleted. */
  end?: Ending;
};

export type NodeSpec = { name: string; labels?: Record<string, string>; taints?: k8s.V1Taint[]; capacity?: Record<string, string> };

type LogLine = { ts: string; text: string };
type Container = {
  pod: k8s.V1Pod;
  lines: LogLine[];
  followers: Set<ServerResponse>;
  state: 'pending' | 'running' | 'terminated';
  startedAt?: Date;
  deadlineTimer?: NodeJS.Timeout;
};

export class FakeKubelet {
  readonly core: k8s.CoreV1Api;
  /** Every pod this kubelet saw bound, by namespace/name (the latest object it saw or wrote). */
  readonly seen = new Map<string, k8s.V1Pod>();
  private readonly containers = new Map<string, Container>();
  private server!: Server;
  private informer!: k8s.Informer<k8s.V1Pod>;
  private lastNanos = 0n;
  private readonly errors: unknown[] = [];
  private stopped = false;

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly tls: { cert: string; key: string; ca: string },
    /** What the container of a pod does; called once per pod when it is bound. */
    public script: (pod: k8s.V1Pod) => Script = () => ({ end: { exitCode: 0 } }),
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async start(nodes: NodeSpec[]): Promise<void> {
    this.server = createServer(
      { cert: readFileSync(this.tls.cert), key: readFileSync(this.tls.key), ca: readFileSync(this.tls.ca), requestCert: true, rejectUnauthorized: true },
      (req, res) => this.serveLogs(req.url ?? '/', res),
    );
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    for (const node of nodes) await this.registerNode(node);
    this.informer = k8s.makeInformer(this.kc, '/api/v1/pods', () => this.core.listPodForAllNamespaces());
    const onPod = (pod: k8s.V1Pod) => void this.onPod(pod).catch((err: unknown) => this.errors.push(err));
    this.informer.on('add', onPod);
    this.informer.on('update', onPod);
    this.informer.on('error', () => {
      if (!this.stopped) setTimeout(() => void this.informer.start(), 500);
    });
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer?.stop();
    for (const c of this.containers.values()) {
      clearTimeout(c.deadlineTimer);
      for (const res of c.followers) res.end();
    }
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
    if (this.errors.length) throw new AggregateError(this.errors, `fake kubelet errors: ${this.errors.map(String).join('; ')}`);
  }

  private async registerNode(spec: NodeSpec): Promise<void> {
    const capacity = { cpu: '8', memory: '32Gi', pods: '110', ...spec.capacity };
    await this.core.createNode({
      body: { metadata: { name: spec.name, labels: { 'kubernetes.io/hostname': spec.name, ...spec.labels } }, spec: { taints: spec.taints } },
    });
    const now = new Date();
    await this.core.patchNodeStatus(
      {
        name: spec.name,
        body: {
          status: {
            capacity,
            allocatable: capacity,
            addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: spec.name }],
            daemonEndpoints: { kubeletEndpoint: { Port: this.port } },
            conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake kubelet', lastHeartbeatTime: now, lastTransitionTime: now }],
            nodeInfo: {
              machineID: spec.name, systemUUID: spec.name, bootID: spec.name, kernelVersion: 'test', osImage: 'test',
              containerRuntimeVersion: 'fake://1', kubeletVersion: 'v1.20.2', kubeProxyVersion: 'v1.20.2', operatingSystem: 'linux', architecture: 'amd64',
            },
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    // The TaintNodesByCondition admission plugin taints a new node not-ready; the node lifecycle controller (not
    // running here) would lift it once the kubelet reports Ready.
    await this.core.patchNode(
      { name: spec.name, body: { spec: { taints: spec.taints ?? null } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  }

  private key(pod: k8s.V1Pod): string {
    return `${pod.metadata!.namespace}/${pod.metadata!.name}`;
  }

  private async onPod(pod: k8s.V1Pod): Promise<void> {
    if (this.stopped || !pod.spec?.nodeName) return;
    const key = this.key(pod);
    let c = this.containers.get(key);
    if (c && c.pod.metadata!.uid !== pod.metadata!.uid) {
      this.containers.delete(key);
      c = undefined;
    }
    if (pod.metadata!.deletionTimestamp) {
      await this.kill(c, pod);
      return;
    }
    if (c) return;
    c = { pod, lines: [], followers: new Set(), state: 'pending' };
    this.containers.set(key, c);
    this.seen.set(key, pod);
    await this.run(c, this.script(pod));
  }

  private async run(c: Container, script: Script): Promise<void> {
    if (script.pullError) {
      await this.patchStatus(c, {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
        containerStatuses: [this.containerStatus(c, { waiting: script.pullError })],
      });
      return;
    }
    c.state = 'running';
    c.startedAt = new Date();
    // The script's lines are in the log before the pod reads Running: a test that sees Running and writes a line of
    // its own (log()) must find its line after them, as a container's later output follows its earlier output.
    for (const line of script.logs ?? []) this.writeLine(c, line);
    await this.patchStatus(c, {
      phase: 'Running',
      hostIP: '127.0.0.1',
      podIP: '127.0.0.1',
      startTime: c.startedAt,
      conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True' })),
      containerStatuses: [this.containerStatus(c, { running: { startedAt: c.startedAt } })],
    });
    const deadline = c.pod.spec!.activeDeadlineSeconds;
    if (deadline) {
      c.deadlineTimer = setTimeout(
        () =>
          void this.finish(c.pod, { evicted: '' }, { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' }).catch(
            (err: unknown) => this.errors.push(err),
          ),
        deadline * 1000,
      );
    }
    if (script.end) await this.finish(c.pod, script.end);
  }

  /** Appends a line to a running container's log. */
  log(pod: k8s.V1Pod | string, line: string): void {
    const c = this.containers.get(typeof pod === 'string' ? pod : this.key(pod));
    if (!c || c.state !== 'running') throw new Error(`no running container for ${typeof pod === 'string' ? pod : this.key(pod)}`);
    this.writeLine(c, line);
  }

  /** Ends a running container (or, with `evicted`, the whole pod as a kubelet eviction does). */
  async finish(
    pod: k8s.V1Pod | string,
    ending: Ending,
    podFailure?: { reason: string; message: string },
  ): Promise<void> {
    const c = this.containers.get(typeof pod === 'string' ? pod : this.key(pod));
    if (!c || c.state === 'terminated') return;
    c.state = 'terminated';
    clearTimeout(c.deadlineTimer);
    const finishedAt = new Date();
    const failure = podFailure ?? ('evicted' in ending ? { reason: 'Evicted', message: ending.evicted } : undefined);
    const exit = 'evicted' in ending ? { exitCode: 137, reason: 'Error' } : ending;
    const terminated: k8s.V1ContainerStateTerminated = {
      exitCode: exit.exitCode,
      reason: exit.reason ?? (exit.exitCode === 0 ? 'Completed' : 'Error'),
      message: 'terminationMessage' in exit ? exit.terminationMessage : undefined,
      startedAt: c.startedAt,
      finishedAt,
    };
    await this.patchStatus(c, {
      phase: failure || exit.exitCode !== 0 ? 'Failed' : 'Succeeded',
      ...(failure ?? {}),
      conditions: ['PodScheduled', 'Initialized'].map((type) => ({ type, status: 'True' })).concat(
        ['ContainersReady', 'Ready'].map((type) => ({ type, status: 'False' })),
      ),
      containerStatuses: [this.containerStatus(c, { terminated })],
    });
    for (const res of c.followers) res.end();
    c.followers.clear();
  }

  /** What a kubelet does for a pod the API server marked for deletion: stop it, then remove it for good. */
  private async kill(c: Container | undefined, pod: k8s.V1Pod): Promise<void> {
    if (c && c.state !== 'terminated') {
      c.state = 'terminated';
      clearTimeout(c.deadlineTimer);
      for (const res of c.followers) res.end();
      c.followers.clear();
    }
    await this.core
      .deleteNamespacedPod({
        name: pod.metadata!.name!,
        namespace: pod.metadata!.namespace!,
        // With a body, the API server reads the options from it alone (a gracePeriodSeconds query would be ignored).
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid } },
      })
      .catch((err: unknown) => {
        if (![404, 409].includes((err as { code?: number }).code ?? 0)) throw err;
      });
  }

  private containerStatus(c: Container, state: k8s.V1ContainerState): k8s.V1ContainerStatus {
    const spec = c.pod.spec!.containers[0]!;
    return {
      name: spec.name,
      image: spec.image ?? '',
      imageID: state.waiting ? '' : `fake://${spec.image}`,
      ready: Boolean(state.running),
      started: Boolean(state.running),
      restartCount: 0,
      state,
    };
  }

  private async patchStatus(c: Container, status: k8s.V1PodStatus): Promise<void> {
    const updated = await this.core.patchNamespacedPodStatus(
      { name: c.pod.metadata!.name!, namespace: c.pod.metadata!.namespace!, body: { status } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    c.pod = updated;
    this.seen.set(this.key(updated), updated);
  }

  /** RFC 3339 with nanoseconds, trailing zeros trimmed as Go's RFC3339Nano does; strictly increasing. */
  private timestamp(): string {
    let nanos = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    if (nanos <= this.lastNanos) nanos = this.lastNanos + 1n;
    this.lastNanos = nanos;
    const seconds = new Date(Number(nanos / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
    const fraction = (nanos % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
    return `${seconds}${fraction ? `.${fraction}` : ''}Z`;
  }

  private writeLine(c: Container, text: string): void {
    const line = { ts: this.timestamp(), text };
    c.lines.push(line);
    for (const res of c.followers) res.write(this.format(line, res));
  }

  private format(line: LogLine, res: ServerResponse): string {
    return (res as ServerResponse & { timestamps?: boolean }).timestamps ? `${line.ts} ${line.text}\n` : `${line.text}\n`;
  }

  /** GET /containerLogs/{namespace}/{pod}/{container}?follow&timestamps&sinceTime&tailLines, as the kubelet serves it. */
  private serveLogs(url: string, res: ServerResponse): void {
    const u = new URL(url, 'https://kubelet');
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(u.pathname);
    const c = m ? this.containers.get(`${m[1]}/${m[2]}`) : undefined;
    if (!m || !c) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no container at ${u.pathname}`);
      return;
    }
    if (c.state === 'pending') {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`container "${m[3]}" in pod "${m[2]}" is waiting to start`);
      return;
    }
    const since = u.searchParams.get('sinceTime');
    const sinceMs = since ? Date.parse(since) : undefined;
    let lines = c.lines.filter((l) => sinceMs === undefined || Date.parse(l.ts) >= sinceMs);
    const tail = u.searchParams.get('tailLines');
    if (tail) lines = lines.slice(-Number(tail));
    res.writeHead(200, { 'content-type': 'text/plain' });
    Object.assign(res, { timestamps: u.searchParams.get('timestamps') === 'true' });
    res.write(lines.map((l) => this.format(l, res)).join(''));
    if (u.searchParams.get('follow') === 'true' && c.state === 'running') {
      c.followers.add(res);
      res.on('close', () => c.followers.delete(res));
    } else {
      res.end();
    }
  }
}
