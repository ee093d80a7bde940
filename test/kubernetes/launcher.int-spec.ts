import { afterAll, beforeAll, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { readPodTemplate } from '../../src/kubernetes/create-launcher.js';
import { KubeError, KubePods, loadKubeConfig } from '../../src/kubernetes/kube-pods.js';
import { startTestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';
import {
  NAMESPACE,
  LauncherProcess,
  containerDag,
  describeK8s,
  podsOf,
  taskLog,
  useK8sEnv,
  waitForTask,
  writeTemplate,
} from '../support/k8s.js';

/**
 * The Kubernetes launcher (`weft kubernetes`, a child process with only the documented Role) against a real
 * kube-apiserver and kube-scheduler; the test plays the kubelet (test/support/fake-kubelet.ts).
 */
describeK8s('weft kubernetes', () => {
  const k = useK8sEnv();
  let launcher: LauncherProcess;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-k8s-launcher-'));
    const template = writeTemplate(dir, {
      metadata: { labels: { 'weft.example/level': 'cluster' } },
      spec: { containers: [{ name: 'base', env: [{ name: 'FROM_CLUSTER', value: '1' }] }]},
    });
    launcher = new LauncherProcess(k.env, { WEFT_KUBERNETES_POD_TEMPLATE_FILE: template, WEFT_KUBERNETES_STARTUP_TIMEOUT_SEC: '60' });
    await launcher.started();
  });
  afterAll(async () => {
    await launcher?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a GPU task in a pod built from the three template levels, copies its logs, takes XCom from the termination message and cleans the pod up', async () => {
    const { env } = k;
    env.scripts.set('fit', () => ({ logs: ['loading features', 'epoch 1/1'] }));
    await env.api.registerDag(
      containerDag(
        'gpu_train',
        [
          {
            taskId: 'fit',
            image: 'registry.example.com/trainer:3',
            command: ['python', '-m', 'train'],
            args: ['--date', '{{ ds }}'],
            env: { MODEL: 'v3' },
            secrets: ['warehouse-creds'],
            resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '4Gi', 'nvidia.com/gpu': 1 } },
            nodeSelector: { 'weft.example/accelerator': 'a100' },
            tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
            volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '1Gi' } }],
            volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
            podTemplate: { metadata: { labels: { 'weft.example/level': 'task' } } },
          },
        ],
        { defaultArgs: { podTemplate: { metadata: { annotations: { 'weft.example/run': '{{ run_id }}' }, labels: { 'weft.example/dag': 'gpu_train' } } } } },
      ),
    );
    const run = await env.api.trigger('gpu_train', { logicalDate: '2024-01-15T00:00:00Z' });
    const [pod] = await waitFor(async () => {
      const pods = await podsOf(env, 'fit');
      return pods[0]?.status?.phase === 'Running' ? pods : null;
    }, 'the pod to run', 30_000);

    // The real scheduler put it on the only node that has a GPU, tolerates its taint and matches the selector.
    expect(pod!.spec!.nodeName).toBe('gpu-node');
    expect(pod!.metadata!.labels).toMatchObject({
      'weft.example/level': 'task',
      'weft.example/dag': 'gpu_train',
      'app.kubernetes.io/managed-by': 'weft',
      'weft.dev/launcher': 'weft-launcher',
      'weft.dev/dag-id': 'gpu_train',
      'weft.dev/task-id': 'fit',
      'weft.dev/try-number': '1',
    });
    expect(pod!.metadata!.annotations).toMatchObject({
      'weft.example/run': run.runId,
      'weft.dev/run-id': run.runId,
      'weft.dev/lease-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(pod!.spec!.restartPolicy).toBe('Never');
    expect(pod!.spec!.tolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
    expect(pod!.spec!.nodeSelector).toEqual({ 'weft.example/accelerator': 'a100' });
    expect(pod!.spec!.volumes).toEqual([{ name: 'scratch', emptyDir: { sizeLimit: '1Gi' } }]);
    const base = pod!.spec!.containers[0]!;
    expect(base).toMatchObject({
      name: 'base',
      image: 'registry.example.com/trainer:3',
      command: ['python', '-m', 'train'],
      args: ['--date', '2024-01-15'],
      envFrom: [{ secretRef: { name: 'warehouse-creds' } }],
      volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
      terminationMessagePolicy: 'FallbackToLogsOnError',
    });
    expect(base.resources!.limits).toEqual({ memory: '4Gi', 'nvidia.com/gpu': '1' });
    expect(base.env).toEqual(
      expect.arrayContaining([
        { name: 'WEFT_DS', value: '2024-01-15' },
        { name: 'WEFT_TRY_NUMBER', value: '1' },
        { name: 'FROM_CLUSTER', value: '1' },
        { name: 'MODEL', value: 'v3' },
      ]),
    );

    env.kubelet.log(pod!, 'done: 42 rows');
    await env.kubelet.finish(pod!, { exitCode: 0, terminationMessage: '{"rows": 42, "path": "s3://models/v3"}' });
    await waitForTask(env, 'gpu_train', run.runId, 'fit', ['success']);
    const xcom = await env.api.ok('GET', `/api/v1/dags/gpu_train/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/fit/xcomEntries/return_value`);
    expect(xcom.value).toEqual({ rows: 42, path: 's3://models/v3' });
    const lines = await taskLog(env, 'gpu_train', run.runId, 'fit', 1);
    expect(lines.filter((l) => !l.startsWith('[weft]'))).toEqual(['loading features', 'epoch 1/1', 'done: 42 rows']);
    expect(lines).toContain('pod running on node gpu-node'.replace(/^/, '[weft] '));
    // Deleted once its TTL (1 s) has passed.
    await waitFor(async () => (await podsOf(env, 'fit')).length === 0, 'the finished pod to be deleted', 20_000);
  });

  it('fails an attempt from its exit code and retries it in a new pod', async () => {
    const { env } = k;
    env.scripts.set('flaky', (tryNumber) =>
      tryNumber === 1
        ? { logs: ['starting', 'Traceback: KeyError'], end: { exitCode: 3, terminationMessage: 'starting\nTraceback: KeyError\n' } }
        : { logs: ['fine now'], end: { exitCode: 0 } },
    );
    await env.api.registerDag(containerDag('retrying', [{ taskId: 'flaky', retries: 1, retryDelaySec: 0 }]));
    const run = await env.api.trigger('retrying');
    const ti = await waitForTask(env, 'retrying', run.runId, 'flaky', ['success']);
    expect(ti.tries.map((t: any) => [t.tryNumber, t.state, t.error])).toEqual([
      [1, 'up_for_retry', "container 'base' exited with code 3 (Error): Traceback: KeyError"],
      [2, 'success', null],
    ]);
    const seen = [...env.kubelet.seen.values()].filter((p) => p.metadata!.annotations!['weft.dev/task-id'] === 'flaky');
    expect(seen.map((p) => p.metadata!.labels!['weft.dev/try-number']).sort()).toEqual(['1', '2']);
    expect(new Set(seen.map((p) => p.metadata!.name)).size).toBe(2);
    expect(await taskLog(env, 'retrying', run.runId, 'flaky', 1)).toEqual(
      expect.arrayContaining(['starting', 'Traceback: KeyError', "[weft] attempt failed: container 'base' exited with code 3 (Error): Traceback: KeyError"]),
    );
  });

  it.each([
    ['oom', { end: { exitCode: 137, reason: 'OOMKilled' } }, {}, "container 'base' was OOMKilled (exit code 137): it used more memory than its limit (64Mi)"],
    ['evicted', { end: { evicted: 'The node was low on resource: ephemeral-storage.' } }, {}, 'pod evicted by the kubelet: The node was low on resource: ephemeral-storage.'],
    ['deadline', {}, { podTemplate: { spec: { activeDeadlineSeconds: 1 } } }, 'pod exceeded its activeDeadlineSeconds (1 s): Pod was active on the node longer than the specified deadline'],
  ])('ends a %s attempt with its reason', async (taskId, script, fields, error) => {
    const { env } = k;
    env.scripts.set(taskId, () => script as never);
    await env.api.registerDag(containerDag(`end_${taskId}`, [{ taskId, resources: { limits: { memory: '64Mi' } }, ...fields }]));
    const run = await env.api.trigger(`end_${taskId}`);
    const ti = await waitForTask(env, `end_${taskId}`, run.runId, taskId, ['failed']);
    expect(ti.tries).toEqual([expect.objectContaining({ tryNumber: 1, state: 'failed', error })]);
  });

  it('stops a pod that outlives the execution timeout', async () => {
    const { env } = k;
    env.scripts.set('slow', () => ({ logs: ['working'] }));
    await env.api.registerDag(containerDag('timeouts', [{ taskId: 'slow', executionTimeoutSec: 2 }]));
    const run = await env.api.trigger('timeouts');
    const ti = await waitForTask(env, 'timeouts', run.runId, 'slow', ['failed']);
    // Whichever sees the deadline first ends the attempt: the launcher ('cancelled: execution_timeout') or the
    // server's timeout job ('execution timeout: …', and the launcher's next heartbeat gets 409); the pod goes either way.
    expect(ti.tries[0].error).toMatch(/^(cancelled: execution_timeout|execution timeout: the attempt ran past its deadline)/);
    await waitFor(async () => (await podsOf(env, 'slow')).length === 0, 'the pod to be deleted', 20_000);
  });

  it.each([
    [
      'unschedulable',
      // More GPUs than any node has: the real scheduler leaves it Pending.
      { resources: { limits: { 'nvidia.com/gpu': 2 } }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }] },
      undefined,
      /^pod did not start within 2 s: Unschedulable: 0\/2 nodes are available: .*Insufficient nvidia\.com\/gpu/,
    ],
    [
      'badimage',
      {},
      { pullError: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.example.com/weft-test:1"' } },
      /^pod did not start within 2 s: ImagePullBackOff: Back-off pulling image "registry.example.com\/weft-test:1"/,
    ],
  ])('fails a pod stuck Pending (%s) after the start-up timeout with the reason Kubernetes gives, and deletes it', async (taskId, fields, script, error) => {
    const { env } = k;
    if (script) env.scripts.set(taskId, () => script);
    await env.api.registerDag(containerDag(`pending_${taskId}`, [{ taskId, startupTimeoutSec: 2, ...fields }]));
    const run = await env.api.trigger(`pending_${taskId}`);
    const ti = await waitForTask(env, `pending_${taskId}`, run.runId, taskId, ['failed']);
    expect(ti.tries[0].error).toMatch(error);
    await waitFor(async () => (await podsOf(env, taskId)).length === 0, 'the pod to be deleted', 20_000);
  });

  it('deletes the pod when its task is marked while it runs (the lease is cancelled)', async () => {
    const { env } = k;
    env.scripts.set('marked', () => ({ logs: ['running for ever'] }));
    await env.api.registerDag(containerDag('cancelling', [{ taskId: 'marked' }]));
    const run = await env.api.trigger('cancelling');
    await waitFor(async () => (await podsOf(env, 'marked'))[0]?.status?.phase === 'Running', 'the pod to run', 30_000);
    await env.api.ok('PATCH', `/api/v1/dags/cancelling/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/marked`, { newState: 'failed' });
    await waitFor(async () => (await podsOf(env, 'marked')).length === 0, 'the pod to be deleted', 20_000);
    expect((await waitForTask(env, 'cancelling', run.runId, 'marked', ['failed'])).tries).toHaveLength(1);
  });

  it('holds only the documented Role: what it needs is allowed, nothing else', async () => {
    const { env } = k;
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(env.cluster.launcherKubeconfig);
    const auth = kc.makeApiClient(k8s.AuthorizationV1Api);
    const can = async (verb: string, resource: string, namespace?: string, subresource?: string) =>
      (await auth.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb, resource, namespace, subresource } } } })).status!.allowed;
    for (const verb of ['create', 'get', 'list', 'watch', 'patch', 'delete']) expect([verb, await can(verb, 'pods', NAMESPACE)]).toEqual([verb, true]);
    expect(await can('get', 'pods', NAMESPACE, 'log')).toBe(true);
    expect(await can('get', 'pods', NAMESPACE, 'status')).toBe(true);
    expect(await can('list', 'events', NAMESPACE)).toBe(true);
    expect(await can('update', 'pods', NAMESPACE, 'status')).toBe(false);
    expect(await can('create', 'pods', NAMESPACE, 'exec')).toBe(false);
    expect(await can('get', 'secrets', NAMESPACE)).toBe(false);
    expect(await can('create', 'pods', 'default')).toBe(false);
    expect(await can('list', 'nodes')).toBe(false);
    await expect(kc.makeApiClient(k8s.CoreV1Api).listNamespacedSecret({ namespace: NAMESPACE })).rejects.toMatchObject({ code: 403 });
  });

  it('works with in-cluster configuration (service-account token and CA files, KUBERNETES_SERVICE_HOST/PORT)', async () => {
    const { env } = k;
    const root = join(dir, 'in-cluster');
    const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), env.cluster.launcherToken);
    copyFileSync(env.cluster.caFile, join(sa, 'ca.crt'));
    writeFileSync(join(sa, 'namespace'), NAMESPACE);
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    const url = new URL(env.cluster.server);
    process.env.KUBERNETES_SERVICE_HOST = url.hostname;
    process.env.KUBERNETES_SERVICE_PORT = url.port;
    try {
      const pods = new KubePods(loadKubeConfig('in-cluster', root));
      expect(await pods.list(NAMESPACE, 'app.kubernetes.io/managed-by=weft')).toEqual(expect.any(Array));
      await expect(pods.list('default', 'app.kubernetes.io/managed-by=weft')).rejects.toEqual(expect.any(KubeError));
      await expect(pods.list('default', 'x=y')).rejects.toMatchObject({ status: 403 });
    } finally {
      process.env.KUBERNETES_SERVICE_HOST = saved.host;
      process.env.KUBERNETES_SERVICE_PORT = saved.port;
      if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
      if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
    }
  });

  it('stops on a refused key (401) with the key prefix and what to do, and exits 1', async () => {
    // An API with authentication on, and a key it does not know.
    const authed = await startTestApp({ WEFT_AUTH: 'on' });
    try {
      const key = 'weft_NotAKeyOfThisApi_0123456789abcdefghijklmnop';
      const refused = new LauncherProcess(k.env, { WEFT_API_URL: await authed.listen(), WEFT_API_KEY: key });
      await refused.started();
      await waitFor(async () => refused.proc.exitCode !== null, `the launcher to stop (${refused.output.join('\n')})`, 60_000);
      expect(refused.proc.exitCode).toBe(1);
      const said = refused.output.join('\n');
      expect(said).toContain('refused API key weft_NotAKey… (401: unknown or revoked API key): set WEFT_API_KEY to a valid key with role worker');
      expect(said).not.toContain(key.slice(12));
    } finally {
      await authed.close();
    }
  });

  it("validates deploy/kubernetes by server-side dry run, and its cluster pod template is one the launcher accepts", async () => {
    const { env } = k;
    const objects = k8s.KubernetesObjectApi.makeApiClient(env.kc);
    const applied: string[] = [];
    for (const file of ['weft.yaml', 'launcher-rbac.yaml']) {
      const path = fileURLToPath(new URL(`../../deploy/kubernetes/${file}`, import.meta.url));
      for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
        const spec = doc.toJSON() as k8s.KubernetesObject;
        // Server-side apply, dry run: the API server validates and admits each object (new or existing), storing nothing.
        const result = await objects.patch(spec, undefined, 'All', 'weft-test', true, k8s.PatchStrategy.ServerSideApply);
        applied.push(`${result.kind}/${result.metadata!.name}`);
      }
    }
    expect(applied).toEqual([
      'Namespace/weft', 'ConfigMap/weft', 'ConfigMap/weft-pod-template', 'Deployment/weft-api', 'Service/weft-api',
      'Deployment/weft-scheduler', 'Deployment/weft-launcher', 'ServiceAccount/weft-launcher', 'Role/weft-launcher', 'RoleBinding/weft-launcher',
    ]);
    await expect(env.core.readNamespacedConfigMap({ namespace: NAMESPACE, name: 'weft' })).rejects.toMatchObject({ code: 404 });
    const templates = (parseAllDocuments(readFileSync(fileURLToPath(new URL('../../deploy/kubernetes/weft.yaml', import.meta.url)), 'utf8'))
      .map((d) => d.toJSON() as k8s.V1ConfigMap)
      .find((o) => o.metadata?.name === 'weft-pod-template'))!;
    const file = join(dir, 'deployed-template.yaml');
    writeFileSync(file, templates.data!['pod-template.yaml']!);
    expect(readPodTemplate(file).spec?.containers?.[0]?.name).toBe('base');
  });
});
