import { afterEach, expect, it } from '@jest/globals';
import { PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { buildPod } from '../../src/kubernetes/domain/build-pod.js';
import { waitFor } from '../support/wait.js';
import { NAMESPACE, QUEUE, LauncherProcess, containerDag, describeK8s, podsOf, taskLog, useK8sEnv, waitForTask } from '../support/k8s.js';

/**
 * Restart safety of `weft kubernetes`: a launcher killed with SIGKILL (by its PID) and started again re-attaches to
 * its pods by label, fenced by each pod's lease: no task lost, none run twice, none completed twice. The first test
 * kills a real launcher; the second plays a launcher that died at each awkward moment, by leasing through the API
 * and leaving pods in the states such a launcher leaves them, then starts a real one.
 */
describeK8s('weft kubernetes restarted', () => {
  // Leases outlive a launcher restart (a node process starting takes a few seconds here), not a long outage.
  const k = useK8sEnv({ WEFT_LEASE_TTL_SEC: '15' });
  const launchers: LauncherProcess[] = [];
  const start = async (settings: Record<string, string> = {}) => {
    const launcher = new LauncherProcess(k.env, settings);
    launchers.push(launcher);
    await launcher.started();
    return launcher;
  };
  afterEach(async () => {
    for (const l of launchers.splice(0)) {
      await l.kill('SIGTERM');
      if (process.env.WEFT_K8S_DEBUG) console.log(l.output.join('\n'));
    }
  });

  const podsSeen = (taskId: string) =>
    [...k.env.kubelet.seen.values()].filter((p) => p.metadata!.annotations!['weft.dev/task-id'] === taskId).map((p) => p.metadata!.name);

  it('re-attaches after SIGKILL: a running pod goes on (its log copied once), a pod that finished meanwhile completes once', async () => {
    const { env } = k;
    env.scripts.set('through', () => ({ logs: ['line 1', 'line 2'] }));
    env.scripts.set('meanwhile', () => ({ logs: ['started'] }));
    await env.api.registerDag(containerDag('restart', [{ taskId: 'through' }, { taskId: 'meanwhile' }]));
    const run = await env.api.trigger('restart');
    const first = await start();
    const running = async (taskId: string) =>
      waitFor(async () => {
        const [pod] = await podsOf(env, taskId);
        return pod?.status?.phase === 'Running' && pod.metadata?.annotations?.['weft.dev/log-cursor'] ? pod : null;
      }, `${taskId} running with its log copied`, 30_000);
    const through = await running('through');
    const meanwhile = await running('meanwhile');

    await first.kill('SIGKILL');
    // While no launcher runs: one pod writes more, the other finishes with an XCom.
    env.kubelet.log(through, 'line 3');
    await env.kubelet.finish(meanwhile, { exitCode: 0, terminationMessage: '"done while nobody watched"' });

    await start();
    await waitForTask(env, 'restart', run.runId, 'meanwhile', ['success']);
    env.kubelet.log(through, 'line 4');
    await env.kubelet.finish(through, { exitCode: 0 });
    const ti = await waitForTask(env, 'restart', run.runId, 'through', ['success']);

    expect(ti.tries).toHaveLength(1);
    expect((await taskLog(env, 'restart', run.runId, 'through', 1)).filter((l) => !l.startsWith('[weft]'))).toEqual(['line 1', 'line 2', 'line 3', 'line 4']);
    const xcom = await env.api.ok('GET', `/api/v1/dags/restart/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/meanwhile/xcomEntries/return_value`);
    expect(xcom.value).toBe('done while nobody watched');
    expect((await waitForTask(env, 'restart', run.runId, 'meanwhile', ['success'])).tries).toHaveLength(1);
    expect(podsSeen('through')).toHaveLength(1);
    expect(podsSeen('meanwhile')).toHaveLength(1);
  });

  it('deletes, without completing, the pod of a lease that expired while no launcher ran; the retry gets a new pod', async () => {
    const { env } = k;
    env.scripts.set('expired', (tryNumber) => (tryNumber === 1 ? { logs: ['try 1'] } : { logs: ['try 2'], end: { exitCode: 0 } }));
    await env.api.registerDag(containerDag('expiry', [{ taskId: 'expired', retries: 1, retryDelaySec: 0 }]));
    const run = await env.api.trigger('expiry');
    const first = await start();
    const [oldPod] = await waitFor(async () => {
      const pods = await podsOf(env, 'expired');
      return pods[0]?.status?.phase === 'Running' ? pods : null;
    }, 'try 1 running', 30_000);
    await first.kill('SIGKILL');
    // The lease (6 s) expires and the server's reaper fails the attempt; its retry waits in the queue.
    await waitFor(async () => (await waitForTask(env, 'expiry', run.runId, 'expired', ['up_for_retry', 'queued', 'scheduled'])) !== null, 'the lease to be reaped', 30_000);

    await start();
    const ti = await waitForTask(env, 'expiry', run.runId, 'expired', ['success']);
    expect(ti.tries.map((t: any) => [t.tryNumber, t.state])).toEqual([
      [1, 'up_for_retry'],
      [2, 'success'],
    ]);
    expect(ti.tries[0].error).toMatch(/lease expired/);
    // The old pod is gone, and nobody completed try 1 after the reaper did (its error is the reaper's).
    await waitFor(async () => (await podsOf(env, 'expired')).every((p) => p.metadata!.uid !== oldPod!.metadata!.uid), 'the stale pod to be deleted', 20_000);
    expect(podsSeen('expired')).toHaveLength(2);
  });

  it('handles each state a dead launcher can leave a pod in', async () => {
    const { env } = k;
    await env.api.registerDag(
      containerDag('orphans', ['decided', 'completed', 'marked', 'running'].map((taskId) => ({ taskId })), { maxActiveTasks: 10 }),
    );
    const run = await env.api.trigger('orphans');
    for (const taskId of ['decided', 'completed', 'marked', 'running']) env.scripts.set(taskId, () => ({ logs: [`${taskId} runs`] }));
    const leases = await waitFor(async () => {
      const got = await env.api.lease('ghost', { queues: [QUEUE], capacity: 10, taskTypes: ['container'] });
      return got.length ? got : null;
    }, 'the leases');
    expect(leases.map((l: any) => l.taskId).sort()).toEqual(['completed', 'decided', 'marked', 'running']);
    const pods = new Map<string, V1Pod>();
    for (const lease of leases) {
      const built = buildPod(lease, lease.task, { launcherId: 'weft-launcher', namespaces: [NAMESPACE], startupTimeoutSec: 60 }, new Date());
      if ('error' in built) throw new Error(built.error);
      const pod = await env.core.createNamespacedPod({ namespace: NAMESPACE, body: built.pod as V1Pod });
      pods.set(lease.taskId, pod);
    }
    const byTask = new Map(leases.map((l: any) => [l.taskId as string, l]));
    // The dead launcher was alive until just now: its leases stay live while the test sets the scene.
    const ghostBeats = setInterval(() => {
      for (const taskId of ['decided', 'running']) void env.api.call('POST', `/api/v1/leases/${byTask.get(taskId).leaseId}/heartbeat`);
    }, 1000);
    const annotate = (taskId: string, annotations: Record<string, string>) =>
      env.core.patchNamespacedPod(
        { namespace: NAMESPACE, name: pods.get(taskId)!.metadata!.name!, body: { metadata: { annotations } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    await waitFor(async () => (await podsOf(env, 'running'))[0]?.status?.phase === 'Running', 'the pods to run', 30_000);

    // decided: the launcher had decided to cancel (outcome recorded) and died before completing.
    await annotate('decided', { 'weft.dev/outcome': JSON.stringify({ status: 'failed', error: 'cancelled: cancel_requested', retryable: false }) });
    // completed: its completion was accepted and recorded; it only waits for its clean-up.
    expect((await env.api.complete(byTask.get('completed').leaseId, { status: 'success' })).status).toBe(200);
    await annotate('completed', { 'weft.dev/outcome': '{"status":"success"}', 'weft.dev/completed-at': new Date().toISOString() });
    // marked: an operator marked the task while no launcher ran: its lease is no longer live.
    await env.api.ok('PATCH', `/api/v1/dags/orphans/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/marked`, { newState: 'success' });
    // A pod with the launcher's labels but no lease, and a pod of another launcher.
    const template = pods.get('running')!;
    const stray = await env.core.createNamespacedPod({
      namespace: NAMESPACE,
      body: { metadata: { name: 'stray', labels: template.metadata!.labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'base', image: 'x' }] } },
    });
    const foreign = await env.core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'foreign', labels: { ...template.metadata!.labels, 'weft.dev/launcher': 'another' }, annotations: template.metadata!.annotations },
        spec: { restartPolicy: 'Never', containers: [{ name: 'base', image: 'x' }] },
      },
    });

    clearInterval(ghostBeats);
    await start();
    const gone = async (pod: V1Pod) =>
      waitFor(async () => (await env.core.listNamespacedPod({ namespace: NAMESPACE })).items.every((p) => p.metadata!.uid !== pod.metadata!.uid), `${pod.metadata!.name} to be deleted`, 20_000);

    // decided: completed with the recorded outcome, pod deleted.
    const decided = await waitForTask(env, 'orphans', run.runId, 'decided', ['failed']);
    expect(decided.tries).toEqual([expect.objectContaining({ tryNumber: 1, error: 'cancelled: cancel_requested' })]);
    await gone(pods.get('decided')!);
    // completed: cleaned up after its TTL, not completed again (still one try, success).
    await gone(pods.get('completed')!);
    expect((await waitForTask(env, 'orphans', run.runId, 'completed', ['success'])).tries).toHaveLength(1);
    // marked: its lease is not live, so the pod goes and the mark stands.
    await gone(pods.get('marked')!);
    expect((await waitForTask(env, 'orphans', run.runId, 'marked', ['success'])).tries).toEqual([
      expect.objectContaining({ tryNumber: 1, error: 'attempt ended: marked success by an operator' }),
    ]);
    // running: re-attached and supervised to its end.
    await env.kubelet.finish(pods.get('running')!, { exitCode: 0 });
    expect((await waitForTask(env, 'orphans', run.runId, 'running', ['success'])).tries).toHaveLength(1);
    expect(await taskLog(env, 'orphans', run.runId, 'running', 1)).toEqual(expect.arrayContaining(['running runs', expect.stringMatching(/^\[weft\] launcher re-attached/)]));
    // stray: deleted; foreign: not this launcher's, left alone.
    await gone(stray);
    expect((await env.core.readNamespacedPod({ namespace: NAMESPACE, name: foreign.metadata!.name! })).metadata!.uid).toBe(foreign.metadata!.uid);
    await env.core.deleteNamespacedPod({ namespace: NAMESPACE, name: 'foreign', body: { gracePeriodSeconds: 0 } });
  });
});

