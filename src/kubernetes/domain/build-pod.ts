import { z } from 'zod';
import { BASE_CONTAINER, containerTaskShape, podTemplateSchema, type PodTemplate } from '../../dags/domain/kubernetes-fields.js';
import { isObject, mergePodTemplates, type JsonObject, type JsonValue } from './merge-pod-templates.js';
import { contextVariables } from '../../worker/domain/context-variables.js';
import { ANNOTATION, LABEL, MANAGED_BY, labelValue, podName } from './pod-labels.js';

/** What the launcher knows of an attempt from its lease (the lease protocol's fields). */
export type AttemptLease = {
  leaseId: string;
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  heartbeatIntervalSec: number;
  executionDeadline: string | null;
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
};

export type LaunchSettings = {
  /** Label value naming this launcher; a restarted launcher re-attaches to the pods that carry it. */
  launcherId: string;
  /** Namespaces this launcher may create pods in; the first is the default. */
  namespaces: readonly string[];
  /** The cluster default pod template (WEFT_KUBERNETES_POD_TEMPLATE_FILE). */
  clusterTemplate?: PodTemplate;
  /** How long a pod may stay Pending before the attempt fails (a task's startupTimeoutSec overrides it). */
  startupTimeoutSec: number;
};

export type BuiltPod = { pod: JsonObject; namespace: string; name: string; startupTimeoutSec: number };

/** The lease payload of a container task: the task's fields and its DAG's pod template (see renderTaskPayload). */
const payloadSchema = z.object({ ...containerTaskShape, dagPodTemplate: podTemplateSchema.optional() });

/**
 * The Pod of one attempt: the cluster default, the DAG's template, the task's template and the task's own fields
 * merged in that order (mergePodTemplates), then what Weft owns: name, labels and annotations, `restartPolicy: Never`,
 * `activeDeadlineSeconds` from the attempt's execution deadline, and the WEFT_* context variables in the base
 * container (first, so that the task's env can use them as `$(WEFT_DS)`). An error is a problem with the task that
 * running it again would not fix.
 */
export function buildPod(lease: AttemptLease, payload: unknown, settings: LaunchSettings, now: Date): BuiltPod | { error: string } {
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { error: `invalid container task: ${issue.path.join('.') || '(payload)'}: ${issue.message}` };
  }
  const task = parsed.data;
  const merged = mergePodTemplates(
    settings.clusterTemplate as JsonObject | undefined,
    task.dagPodTemplate as JsonObject | undefined,
    task.podTemplate as JsonObject | undefined,
    taskFieldsTemplate(task),
  );
  const metadata = isObject(merged.metadata) ? merged.metadata : {};
  const spec = isObject(merged.spec) ? merged.spec : {};
  const containers = Array.isArray(spec.containers) ? spec.containers.filter(isObject) : [];
  const base = containers.find((c) => c.name === BASE_CONTAINER);
  if (!base || typeof base.image !== 'string' || base.image === '') {
    return { error: `no image for the '${BASE_CONTAINER}' container (set the task's image, or one in a pod template)` };
  }
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : settings.namespaces[0]!;
  if (!settings.namespaces.includes(namespace)) {
    return { error: `namespace '${namespace}' is not one this launcher serves (WEFT_KUBERNETES_NAMESPACES=${settings.namespaces.join(',')})` };
  }
  const name = podName(lease);
  const startupTimeoutSec = task.startupTimeoutSec ?? settings.startupTimeoutSec;

  const userEnv = Array.isArray(base.env) ? base.env : [];
  const named = new Set(userEnv.map((e) => (isObject(e) ? e.name : undefined)));
  const contextEnv = Object.entries(contextVariables(lease))
    .filter(([key]) => !named.has(key))
    .map(([key, value]): JsonValue => ({ name: key, value }));
  const baseContainer: JsonObject = {
    terminationMessagePolicy: 'FallbackToLogsOnError',
    ...base,
    env: [...contextEnv, ...userEnv],
  };

  const deadline = remainingSeconds(lease.executionDeadline, now);
  const templateDeadline = typeof spec.activeDeadlineSeconds === 'number' ? spec.activeDeadlineSeconds : undefined;
  const activeDeadlineSeconds = deadline === undefined ? templateDeadline : Math.min(deadline, templateDeadline ?? deadline);

  const pod: JsonObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...metadata,
      name,
      namespace,
      labels: {
        ...(isObject(metadata.labels) ? metadata.labels : {}),
        [LABEL.managedBy]: MANAGED_BY,
        [LABEL.launcher]: settings.launcherId,
        [LABEL.dagId]: labelValue(lease.dagId),
        [LABEL.taskId]: labelValue(lease.taskId),
        [LABEL.tryNumber]: String(lease.tryNumber),
      },
      annotations: {
        ...(isObject(metadata.annotations) ? metadata.annotations : {}),
        [ANNOTATION.dagId]: lease.dagId,
        [ANNOTATION.runId]: lease.runId,
        [ANNOTATION.taskId]: lease.taskId,
        [ANNOTATION.tryNumber]: String(lease.tryNumber),
        [ANNOTATION.leaseId]: lease.leaseId,
        [ANNOTATION.heartbeatSec]: String(lease.heartbeatIntervalSec),
        [ANNOTATION.startupTimeoutSec]: String(startupTimeoutSec),
        ...(lease.executionDeadline ? { [ANNOTATION.executionDeadline]: lease.executionDeadline } : {}),
      },
    },
    spec: {
      ...spec,
      restartPolicy: 'Never',
      containers: containers.map((c) => (c === base ? baseContainer : c)),
      ...(activeDeadlineSeconds === undefined ? {} : { activeDeadlineSeconds }),
    },
  };
  return { pod, namespace, name, startupTimeoutSec };
}

type ContainerPayload = z.output<typeof payloadSchema>;

/** The task's own fields as a pod template (the last level merged). */
function taskFieldsTemplate(task: ContainerPayload): JsonObject {
  const container: JsonObject = { name: BASE_CONTAINER };
  if (task.image !== undefined) container.image = task.image;
  if (task.imagePullPolicy !== undefined) container.imagePullPolicy = task.imagePullPolicy;
  if (task.command !== undefined) container.command = task.command;
  if (task.args !== undefined) container.args = task.args;
  if (task.env !== undefined) container.env = Object.entries(task.env).map(([name, value]) => ({ name, value }));
  if (task.secrets !== undefined) {
    container.envFrom = task.secrets.map((s) =>
      typeof s === 'string'
        ? { secretRef: { name: s } }
        : { secretRef: { name: s.name, ...(s.optional === undefined ? {} : { optional: s.optional }) }, ...(s.prefix ? { prefix: s.prefix } : {}) },
    );
  }
  if (task.resources !== undefined) container.resources = task.resources as JsonObject;
  if (task.volumeMounts !== undefined) container.volumeMounts = task.volumeMounts as JsonValue[];
  const spec: JsonObject = { containers: [container] };
  if (task.serviceAccount !== undefined) spec.serviceAccountName = task.serviceAccount;
  if (task.nodeSelector !== undefined) spec.nodeSelector = task.nodeSelector;
  if (task.tolerations !== undefined) spec.tolerations = task.tolerations as JsonValue[];
  if (task.volumes !== undefined) spec.volumes = task.volumes as JsonValue[];
  return { ...(task.namespace === undefined ? {} : { metadata: { namespace: task.namespace } }), spec };
}


function remainingSeconds(deadline: string | null, now: Date): number | undefined {
  if (!deadline) return undefined;
  return Math.max(1, Math.ceil((Date.parse(deadline) - now.getTime()) / 1000));
}
