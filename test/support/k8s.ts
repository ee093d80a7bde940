import { afterAll, beforeAll, describe, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parseAllDocuments } from 'yaml';
// @ts-expect-error plain JavaScript, shared with the command line (scripts/k8s/cluster.mjs)
import { findBinaries, startCluster } from '../../scripts/k8s/cluster.mjs';
import { Api } from './api.js';
import { startTestApp, type TestApp } from './app.js';
import { FakeKubelet, type Script } from './fake-kubelet.js';
import { waitFor } from './wait.js';

const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));
const RBAC = fileURLToPath(new URL('../../deploy/kubernetes/launcher-rbac.yaml', import.meta.url));

/** The namespace of the documented Role (deploy/kubernetes/launcher-rbac.yaml), where the tests run task pods. */
export const NAMESPACE = 'weft';
/** The queue the tests' container tasks go to. */
export const QUEUE = 'k8s';

export type Cluster = {
  server: string;
  caFile: string;
  dir: string;
  adminKubeconfig: string;
  launcherKubeconfig: string;
  launcherToken: string;
  launcherUser: string;
  kubeletCert: string;
  kubeletKey: string;
  stop(): Promise<void>;
};

/**
 * `describe` for tests that need the Kubernetes binaries (scripts/k8s/build-binaries.sh). Without them the tests
 * are skipped with a warning, except in CI (CI=true), where .ci/run builds them first and their absence fails.
 */
export function describeK8s(name: string, fn: () => void): void {
  if (findBinaries()) {
    describe(name, fn);
  } else if (process.env.CI === 'true') {
    describe(name, () => it('has the Kubernetes binaries (scripts/k8s/build-binaries.sh)', () => {
      throw new Error('CI=true but kube-apiserver/kube-scheduler/etcd are missing: .ci/run should have built them');
    }));
  } else {
    console.warn(`${name}: skipped, the Kubernetes binaries are not built (run scripts/k8s/build-binaries.sh)`);
    describe.skip(name, fn);
  }
}

/** What a test scripts for the pod of one task: by task id, given the try number. */
export type Scripts = Map<string, (tryNumber: number) => Script>;

export type K8sEnv = {
  cluster: Cluster;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  kubelet: FakeKubelet;
  scripts: Scripts;
  t: TestApp;
  api: Api;
  db: pg.Client;
  baseUrl: string;
};

/**
 * One file's world: a control plane with a CPU node and a GPU node (label, taint, `nvidia.com/gpu: 1`), the fake
 * kubelet, the namespace with the documented Role bound to the launcher's identity, and a Weft app (real scheduler
 * loop, short leases) serving HTTP for the launcher.
 */
export function useK8sEnv(appEnv: Record<string, string> = {}): { readonly env: K8sEnv } {
  let env: K8sEnv | undefined;
  let cluster: Cluster | undefined;
  let kubelet: FakeKubelet | undefined;
  let t: TestApp | undefined;
  let db: pg.Client | undefined;
  beforeAll(async () => {
    cluster = (await startCluster({ launcherNamespace: NAMESPACE })) as Cluster;
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.adminKubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    // No controller-manager creates the default service account; task pods do not mount its token.
    await core.createNamespacedServiceAccount({ namespace: NAMESPACE, body: { metadata: { name: 'default' }, automountServiceAccountToken: false } });
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    for (const doc of parseAllDocuments(readFileSync(RBAC, 'utf8'))) {
      const spec = doc.toJSON() as k8s.KubernetesObject;
      await objects.create(spec.kind === 'ServiceAccount' ? { ...spec, automountServiceAccountToken: false } as k8s.KubernetesObject : spec);
    }
    const scripts: Scripts = new Map();
    kubelet = new FakeKubelet(kc, { cert: cluster.kubeletCert, key: cluster.kubeletKey, ca: cluster.caFile }, (pod) => {
      const a = pod.metadata?.annotations ?? {};
      return scripts.get(a['weft.dev/task-id'] ?? '')?.(Number(a['weft.dev/try-number'])) ?? { end: { exitCode: 0 } };
    });
    await kubelet.start([
      { name: 'cpu-node' },
      {
        name: 'gpu-node',
        labels: { 'weft.example/accelerator': 'a100' },
        capacity: { 'nvidia.com/gpu': '1' },
        taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
      },
    ]);
    t = await startTestApp({ WEFT_LEASE_TTL_SEC: '6', WEFT_HEARTBEAT_INTERVAL_SEC: '1', WEFT_SCHEDULER_TICK_MS: '200', ...appEnv }, { runScheduler: true });
    const baseUrl = await t.listen();
    db = new pg.Client({ connectionString: t.db.url });
    await db.connect();
    env = { cluster, kc, core, kubelet, scripts, t, api: new Api(t.app), db, baseUrl };
  }, 180_000);
  afterAll(async () => {
    await db?.end();
    await t?.close();
    await kubelet?.stop();
    await cluster?.stop();
  }, 60_000);
  return {
    get env() {
      if (!env) throw new Error('the Kubernetes test environment did not start');
      return env;
    },
  };
}

/** `weft kubernetes` as a child process, with the launcher's own identity (the documented Role, nothing else). */
export class LauncherProcess {
  readonly proc: ChildProcess;
  readonly output: string[] = [];
  private readonly exited: Promise<void>;

  constructor(env: K8sEnv, settings: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, [BIN, 'kubernetes'], {
      env: {
        ...process.env,
        WEFT_API_URL: env.baseUrl,
        WEFT_KUBERNETES_KUBECONFIG: env.cluster.launcherKubeconfig,
        WEFT_KUBERNETES_NAMESPACES: NAMESPACE,
        WEFT_KUBERNETES_QUEUES: QUEUE,
        WEFT_KUBERNETES_POD_TTL_SEC: '1',
        WEFT_LOG_LEVEL: 'info',
        WEFT_LOG_PRETTY: 'false',
        ...settings,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => this.output.push(...chunk.toString().split('\n').filter(Boolean));
    this.proc.stdout!.on('data', collect);
    this.proc.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => this.proc.once('exit', () => resolve()));
  }

  async started(): Promise<void> {
    await waitFor(async () => this.output.some((l) => l.includes('kubernetes launcher started')) || this.proc.exitCode !== null, 'the launcher to start', 30_000);
    if (this.proc.exitCode !== null) throw new Error(`the launcher exited: ${this.output.join('\n')}`);
  }

  /** Ends it by its PID: SIGTERM (graceful) or SIGKILL (a crash). */
  async kill(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) process.kill(this.proc.pid!, signal);
    await this.exited;
  }
}

/** A pod template file for WEFT_KUBERNETES_POD_TEMPLATE_FILE. */
export function writeTemplate(dir: string, template: unknown): string {
  const file = `${dir}/pod-template.json`;
  writeFileSync(file, JSON.stringify(template));
  return file;
}

/** The pods of a task in the test namespace (the admin's view), oldest first. */
export async function podsOf(env: K8sEnv, taskId: string): Promise<k8s.V1Pod[]> {
  const { items } = await env.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `weft.dev/task-id=${taskId}` });
  return items.sort((a, b) => Number(a.metadata!.labels!['weft.dev/try-number']) - Number(b.metadata!.labels!['weft.dev/try-number']));
}

/** A container-task DAG on the tests' queue. */
export function containerDag(dagId: string, tasks: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  const { defaultArgs, ...rest } = extra as { defaultArgs?: Record<string, unknown> };
  return {
    dagId,
    defaultArgs: { queue: QUEUE, ...defaultArgs },
    tasks: tasks.map((t) => ({ type: 'container', image: 'registry.example.com/weft-test:1', ...t })),
    ...rest,
  };
}

/** The task instance with its tries, from the API. */
export async function taskInstance(env: K8sEnv, dagId: string, runId: string, taskId: string): Promise<any> {
  return env.api.ok('GET', `/api/v1/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}/taskInstances/${taskId}`);
}

/** The task's log lines for one try. */
export async function taskLog(env: K8sEnv, dagId: string, runId: string, taskId: string, tryNumber: number): Promise<string[]> {
  const page = await env.api.ok('GET', `/api/v1/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}/taskInstances/${taskId}/tries/${tryNumber}/logs`);
  return (page.items as { line: string }[]).map((l) => l.line);
}

/** Waits for the task to reach one of `states` (the scheduler loop and the launcher run for real). */
export async function waitForTask(env: K8sEnv, dagId: string, runId: string, taskId: string, states: string[], timeoutMs = 30_000): Promise<any> {
  return waitFor(
    async () => {
      const ti = await taskInstance(env, dagId, runId, taskId);
      return states.includes(ti.state) ? ti : null;
    },
    `${dagId}.${taskId} to be ${states.join(' or ')}`,
    timeoutMs,
    100,
  );
}
