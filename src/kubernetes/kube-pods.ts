import * as k8s from '@kubernetes/client-node';
import http from 'node:http';
import https from 'node:https';

/** An error answer of the Kubernetes API: its HTTP status and the message of its Status object. */
export class KubeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Where the launcher's credentials come from: `in-cluster` (the pod's service account token and CA), a kubeconfig
 * file path, or unset: $KUBECONFIG, then ~/.kube/config, then in-cluster (client-node's default order).
 * `inClusterRoot` prefixes the service-account paths (tests only).
 */
export function loadKubeConfig(source: string | undefined, inClusterRoot = ''): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (source === 'in-cluster') kc.loadFromCluster(inClusterRoot);
  else if (source) kc.loadFromFile(source);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error('no Kubernetes cluster configured (WEFT_KUBERNETES_KUBECONFIG)');
  return kc;
}

const MERGE_PATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/**
 * The pod operations the launcher needs, and nothing more: they are exactly what the documented Role grants
 * (deploy/kubernetes/launcher-rbac.yaml): pods create/get/list/watch/patch/delete, pods/log get, events list.
 */
export class KubePods {
  private readonly core: k8s.CoreV1Api;

  constructor(readonly kc: k8s.KubeConfig) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  async create(namespace: string, pod: k8s.V1Pod): Promise<k8s.V1Pod> {
    return call(() => this.core.createNamespacedPod({ namespace, body: pod }));
  }

  /** The pod, or null when it does not exist. */
  async get(namespace: string, name: string): Promise<k8s.V1Pod | null> {
    return absentAsNull(call(() => this.core.readNamespacedPod({ namespace, name })));
  }

  async list(namespace: string, labelSelector: string): Promise<k8s.V1Pod[]> {
    return (await call(() => this.core.listNamespacedPod({ namespace, labelSelector }))).items;
  }

  /** Deletes the pod (gone already is fine); `uid` makes sure it is this pod and not a namesake created since. */
  async delete(namespace: string, name: string, uid?: string, gracePeriodSeconds?: number): Promise<void> {
    const body: k8s.V1DeleteOptions = {
      ...(uid ? { preconditions: { uid } } : {}),
      ...(gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds }),
    };
    try {
      await call(() => this.core.deleteNamespacedPod({ namespace, name, body }));
    } catch (err) {
      // 404: gone already; 409: the uid precondition failed, so the pod of that name is another one.
      if (err instanceof KubeError && (err.status === 404 || err.status === 409)) return;
      throw err;
    }
  }

  /** Sets (or, with null, removes) annotations; the pod may be gone, which returns null. */
  async annotate(namespace: string, name: string, annotations: Record<string, string | null>): Promise<k8s.V1Pod | null> {
    return absentAsNull(call(() => this.core.patchNamespacedPod({ namespace, name, body: { metadata: { annotations } } }, MERGE_PATCH)));
  }

  /** The pod's warning events, oldest first, as "Reason: message". */
  async warnings(namespace: string, name: string): Promise<string[]> {
    const events = await call(() =>
      this.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${name}` }),
    );
    return events.items
      .filter((e) => e.type === 'Warning')
      .sort((a, b) => eventTime(a) - eventTime(b))
      .map((e) => `${e.reason ?? 'Warning'}: ${e.message ?? ''}`.trim());
  }

  /** A list-and-watch of the namespace's pods with these labels (client-node's informer; restart it on 'error'). */
  informer(namespace: string, labelSelector: string): k8s.Informer<k8s.V1Pod> & k8s.ObjectCache<k8s.V1Pod> {
    return k8s.makeInformer(
      this.kc,
      `/api/v1/namespaces/${namespace}/pods`,
      () => this.core.listNamespacedPod({ namespace, labelSelector }),
      labelSelector,
    );
  }

  /**
   * Reads a container's log with timestamps, line by line, until the API server ends the stream (with `follow`, when
   * the container stops). Resolves at the end of the stream; rejects with KubeError on an error answer.
   */
  async readLog(
    namespace: string,
    name: string,
    container: string,
    opts: { follow: boolean; sinceTime?: string },
    onLine: (line: string) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const server = this.kc.getCurrentCluster()!.server;
    const url = new URL(`${server}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/log`);
    url.searchParams.set('container', container);
    url.searchParams.set('timestamps', 'true');
    url.searchParams.set('follow', String(opts.follow));
    if (opts.sinceTime) url.searchParams.set('sinceTime', opts.sinceTime);
    const options: https.RequestOptions = { method: 'GET', signal };
    await this.kc.applyToHTTPSOptions(options);
    await new Promise<void>((resolve, reject) => {
      const request = url.protocol === 'https:' ? https.request : http.request;
      const req = request(url, options, (res) => {
        res.setEncoding('utf8');
        if (res.statusCode !== 200) {
          let body = '';
          res.on('data', (chunk: string) => (body += chunk.slice(0, 4096)));
          res.on('end', () => reject(new KubeError(res.statusCode ?? 0, statusMessage(body) ?? `log request answered ${res.statusCode}`)));
          return;
        }
        let partial = '';
        res.on('data', (chunk: string) => {
          const lines = (partial + chunk).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) onLine(line);
        });
        res.on('end', () => {
          if (partial) onLine(partial);
          resolve();
        });
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('log stream aborted')));
      });
      req.on('error', reject);
      req.end();
    });
  }
}

function eventTime(e: k8s.CoreV1Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

async function absentAsNull<T>(promise: Promise<T>): Promise<T | null> {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof KubeError && err.status === 404) return null;
    throw err;
  }
}

/** Runs an API call, turning client-node's ApiException into a KubeError that carries the API's own message. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof k8s.ApiException) {
      const body: unknown = err.body;
      const message = (typeof body === 'string' ? statusMessage(body) : (body as { message?: string } | undefined)?.message) ?? err.message;
      throw new KubeError(err.code, message);
    }
    throw err;
  }
}

function statusMessage(body: string): string | undefined {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return body.trim() || undefined;
  }
}
