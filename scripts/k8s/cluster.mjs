#!/usr/bin/env node
// A throw-away Kubernetes control plane for the Kubernetes executor's tests: etcd + kube-apiserver (TLS with
// certificates made at run time, static-token authentication, RBAC authorisation) + kube-scheduler, each on a
// loopback port of its own, in a temporary directory, all ended by PID in stop(). No kubelet and no container
// runtime: the tests play the kubelet (test/support/fake-kubelet.ts). The binaries come from build-binaries.sh.
//
//   node scripts/k8s/cluster.mjs        starts one, prints its admin kubeconfig path, stops on Ctrl-C
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import https from 'node:https';

export const K8S_CACHE = process.env.WEFT_K8S_CACHE ?? '/var/cache/weft-k8s';

/** Where the binaries are, or null when any is missing. */
export function findBinaries() {
  const bin = join(K8S_CACHE, 'bin');
  const which = (name) => {
    for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, name))) return join(dir, name);
    return null;
  };
  const found = {
    apiserver: join(bin, 'kube-apiserver'),
    scheduler: join(bin, 'kube-scheduler'),
    etcd: which('etcd') ?? (existsSync('/usr/bin/etcd') ? '/usr/bin/etcd' : null),
  };
  return existsSync(found.apiserver) && existsSync(found.scheduler) && found.etcd ? found : null;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function openssl(dir, ...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA and certificates signed by it: the API server's, the fake kubelet's, the API server's kubelet-client one. */
function makeCertificates(dir) {
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=weft-test-ca');
  const sign = (name, cn, san, usage) => {
    writeFileSync(
      join(dir, `${name}.ext`),
      `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=${usage}\n${san ? `subjectAltName=${san}\n` : ''}`,
    );
    openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', cn);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  };
  sign('apiserver', '/CN=kube-apiserver', 'IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc', 'serverAuth');
  sign('kubelet', '/CN=fake-kubelet', 'IP:127.0.0.1,DNS:localhost', 'serverAuth');
  sign('apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', null, 'clientAuth');
  openssl(dir, 'genrsa', '-out', 'sa.key', '2048');
  openssl(dir, 'rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
}

/** A kubeconfig file for `token` against `server`, trusting the test CA. */
export function writeKubeconfig(file, { server, caFile, token, namespace = 'default', user = 'user' }) {
  const ca = readFileSync(caFile).toString('base64');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: test\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${ca}`,
      'users:',
      `- name: ${user}\n  user:\n    token: ${token}`,
      'contexts:',
      `- name: test\n  context:\n    cluster: test\n    user: ${user}\n    namespace: ${namespace}`,
      'current-context: test',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return file;
}

function start(name, file, args, dir, procs) {
  const log = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(file, args, { cwd: dir, stdio: ['ignore', log, log] });
  closeSync(log);
  child.once('exit', (code, signal) => {
    child.exited = { code, signal };
  });
  procs.push({ name, child });
  return child;
}

function get(url, { ca, token }) {
  return new Promise((resolve) => {
    const req = https.get(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * Starts etcd, kube-apiserver and kube-scheduler. Identities (static tokens):
 * - admin (system:masters), for the tests and the fake kubelet;
 * - `system:serviceaccount:<launcherNamespace>:weft-launcher`, the launcher: whatever RBAC grants that service
 *   account (deploy/kubernetes/launcher-rbac.yaml) and nothing else.
 */
export async function startCluster({ launcherNamespace = 'weft', readyTimeoutMs = 120_000 } = {}) {
  const bins = findBinaries();
  if (!bins) throw new Error(`Kubernetes binaries missing in ${K8S_CACHE}/bin (run scripts/k8s/build-binaries.sh)`);
  const dir = mkdtempSync(join(tmpdir(), 'weft-k8s-'));
  const procs = [];
  const cluster = {
    dir,
    procs,
    async stop() {
      for (const { child } of procs.reverse()) {
        if (child.exited || child.pid === undefined) continue;
        const gone = new Promise((r) => child.once('exit', r));
        process.kill(child.pid, 'SIGTERM');
        const timer = setTimeout(() => !child.exited && process.kill(child.pid, 'SIGKILL'), 10_000);
        await gone;
        clearTimeout(timer);
      }
      if (!process.env.WEFT_K8S_KEEP_DIR) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    makeCertificates(dir);
    const [etcdClient, etcdPeer, apiPort, schedulerPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const adminToken = randomBytes(24).toString('hex');
    const schedulerToken = randomBytes(24).toString('hex');
    const launcherToken = randomBytes(24).toString('hex');
    const launcherUser = `system:serviceaccount:${launcherNamespace}:weft-launcher`;
    writeFileSync(
      join(dir, 'tokens.csv'),
      [
        `${adminToken},admin,admin,"system:masters"`,
        `${schedulerToken},system:kube-scheduler,kube-scheduler`,
        `${launcherToken},${launcherUser},weft-launcher,"system:serviceaccounts,system:serviceaccounts:${launcherNamespace}"`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    start('etcd', bins.etcd, [
      '--name', 'weft-test', '--data-dir', join(dir, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${etcdClient}`, '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
      '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster', `weft-test=http://127.0.0.1:${etcdPeer}`, '--log-level', 'warn',
    ], dir, procs);
    start('kube-apiserver', bins.apiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`, '--insecure-port=0',
      '--tls-cert-file=apiserver.crt', '--tls-private-key-file=apiserver.key', '--client-ca-file=ca.crt',
      '--token-auth-file=tokens.csv', '--authorization-mode=RBAC', '--anonymous-auth=false',
      '--service-account-issuer=https://kubernetes.default.svc', '--service-account-key-file=sa.pub',
      '--service-account-signing-key-file=sa.key', '--api-audiences=https://kubernetes.default.svc',
      // Cluster IPs are only allocated here (no proxy, no traffic): a loopback range keeps them on this machine.
      '--service-cluster-ip-range=127.200.0.0/24',
      // The API server proxies pod log reads to the node's kubelet endpoint: the tests' HTTPS server, which
      // presents a certificate of the test CA and checks the API server's client certificate.
      '--kubelet-certificate-authority=ca.crt', '--kubelet-client-certificate=apiserver-kubelet-client.crt',
      '--kubelet-client-key=apiserver-kubelet-client.key', '--kubelet-preferred-address-types=InternalIP',
      // No controller-manager keeps the `kubernetes` Service's endpoints, and a loopback address is not allowed in them.
      '--endpoint-reconciler-type=none',
      '--profiling=false', '--v=1',
    ], dir, procs);
    const server = `https://127.0.0.1:${apiPort}`;
    const ca = readFileSync(join(dir, 'ca.crt'));
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const apiserver = procs.find((p) => p.name === 'kube-apiserver').child;
      if (apiserver.exited) throw new Error(`kube-apiserver exited (${JSON.stringify(apiserver.exited)}); see ${dir}/kube-apiserver.log`);
      if ((await get(`${server}/readyz`, { ca, token: adminToken })) === 200) break;
      if (Date.now() > deadline) throw new Error(`kube-apiserver not ready after ${readyTimeoutMs} ms; see ${dir}/kube-apiserver.log`);
      await sleep(200);
    }
    const caFile = join(dir, 'ca.crt');
    const schedulerKubeconfig = writeKubeconfig(join(dir, 'scheduler.kubeconfig'), { server, caFile, token: schedulerToken });
    start('kube-scheduler', bins.scheduler, [
      `--kubeconfig=${schedulerKubeconfig}`, `--authentication-kubeconfig=${schedulerKubeconfig}`,
      `--authorization-kubeconfig=${schedulerKubeconfig}`, '--leader-elect=false', '--port=0',
      '--bind-address=127.0.0.1', `--secure-port=${schedulerPort}`, `--cert-dir=${join(dir, 'scheduler-certs')}`, `--v=${process.env.WEFT_K8S_SCHEDULER_V ?? 1}`,
    ], dir, procs);
    Object.assign(cluster, {
      server,
      caFile,
      ca,
      adminToken,
      launcherToken,
      launcherUser,
      launcherNamespace,
      kubeletCert: join(dir, 'kubelet.crt'),
      kubeletKey: join(dir, 'kubelet.key'),
      adminKubeconfig: writeKubeconfig(join(dir, 'admin.kubeconfig'), { server, caFile, token: adminToken, user: 'admin' }),
      launcherKubeconfig: writeKubeconfig(join(dir, 'launcher.kubeconfig'), {
        server, caFile, token: launcherToken, namespace: launcherNamespace, user: 'weft-launcher',
      }),
    });
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cluster = await startCluster();
  console.log(`API server ${cluster.server}\nadmin kubeconfig ${cluster.adminKubeconfig}\nlauncher kubeconfig ${cluster.launcherKubeconfig}`);
  const stop = () => cluster.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
