import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import type { Config } from '../config/config.js';
import { podTemplateSchema, type PodTemplate } from '../dags/domain/kubernetes-fields.js';
import { KubePods, loadKubeConfig } from './kube-pods.js';
import { KubernetesLauncher } from './launcher.js';

/** `weft kubernetes` as configured (WEFT_KUBERNETES_*, WEFT_API_URL, WEFT_API_KEY). */
export function createKubernetesLauncher(config: Config, apiUrl: string, logger: Logger): KubernetesLauncher {
  const k = config.kubernetes;
  return new KubernetesLauncher({
    apiUrl,
    apiKey: config.apiKey,
    workerId: config.workerId ?? `kubernetes-${k.launcherId}`,
    queues: k.queues,
    maxPods: k.maxPods,
    launch: {
      launcherId: k.launcherId,
      namespaces: k.namespaces,
      startupTimeoutSec: k.startupTimeoutSec,
      clusterTemplate: k.podTemplateFile ? readPodTemplate(k.podTemplateFile) : undefined,
    },
    podTtlSec: k.podTtlSec,
    keepFailedPods: k.keepFailedPods,
    limits: { maxXcomBytes: config.maxXcomBytes },
    pods: new KubePods(loadKubeConfig(k.kubeconfig)),
    logger: logger.child({ component: 'kubernetes' }),
  });
}

/** The cluster default pod template, checked like a DAG's (an error names the file and the field). */
export function readPodTemplate(file: string): PodTemplate {
  const parsed = podTemplateSchema.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`).join('; ');
    throw new Error(`WEFT_KUBERNETES_POD_TEMPLATE_FILE ${file}: ${problems}`);
  }
  return parsed.data;
}
