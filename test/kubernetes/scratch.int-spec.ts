import { afterAll, beforeAll, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { PassThrough } from 'node:stream';
// @ts-expect-error plain JS
import { startCluster } from '../../scripts/k8s/cluster.mjs';
import { FakeKubelet } from '../support/fake-kubelet.js';
import { waitFor } from '../support/wait.js';

let cluster: any;
let kubelet: FakeKubelet;
let core: k8s.CoreV1Api;
let kc: k8s.KubeConfig;
beforeAll(async () => {
  process.env.WEFT_K8S_KEEP_DIR = '1';
  cluster = await startCluster();
  console.log(cluster.dir);
  kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.adminKubeconfig);
  core = kc.makeApiClient(k8s.CoreV1Api);
  kubelet = new FakeKubelet(kc, { cert: cluster.kubeletCert, key: cluster.kubeletKey, ca: cluster.caFile }, () => ({ logs: ['hello', 'world'] }));
  await kubelet.start([
    { name: 'cpu-node' },
    { name: 'gpu-node', labels: { accel: 'a100' }, capacity: { 'nvidia.com/gpu': '1' }, taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] },
  ]);
  await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'default' }, automountServiceAccountToken: false } });
}, 120_000);
afterAll(async () => { await kubelet?.stop(); await cluster?.stop(); });

it('schedules, runs, serves logs through the API server', async () => {
  await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'p1' }, spec: { restartPolicy: 'Never', containers: [{ name: 'base', image: 'busybox', resources: { limits: { 'nvidia.com/gpu': '1' } } }], tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] } } });
  const pod = await waitFor(async () => { const p = await core.readNamespacedPod({ name: 'p1', namespace: 'default' }); console.log(JSON.stringify(p.spec?.nodeName), JSON.stringify(p.status)); return p.status?.phase === 'Running' ? p : null; }, 'running', 30_000);
  console.log(pod.spec?.nodeName, JSON.stringify(pod.status?.containerStatuses));
  const out = new PassThrough(); let text = '';
  out.on('data', (d) => (text += d));
  await new k8s.Log(kc).log('default', 'p1', 'base', out, { timestamps: true, follow: false });
  await waitFor(async () => text.includes('world'), 'logs');
  console.log(text);
  await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'p2' }, spec: { restartPolicy: 'Never', containers: [{ name: 'base', image: 'busybox', resources: { limits: { 'nvidia.com/gpu': '2' } } }], tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] } } });
  const p2 = await waitFor(async () => { const p = await core.readNamespacedPod({ name: 'p2', namespace: 'default' }); return p.status?.conditions?.length ? p : null; }, 'cond', 30_000);
  console.log(JSON.stringify(p2.status));
  const ev = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=p2' });
  console.log(ev.items.map((e) => `${e.type} ${e.reason} ${e.message}`));
  await core.deleteNamespacedPod({ name: 'p1', namespace: 'default' });
  await waitFor(async () => core.readNamespacedPod({ name: 'p1', namespace: 'default' }).then(() => false, () => true), 'gone', 20_000);
  expect(true).toBe(true);
}, 120_000);
