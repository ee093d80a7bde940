import { z } from 'zod';

/**
 * Field schemas of the `container` task type and of pod templates (docs/kubernetes.md): the names and values the
 * Kubernetes API would refuse at pod creation are refused at registration instead, with the field's path. Whatever
 * a pod template says beyond the fields Weft merges by key is passed to Kubernetes as written, which validates it.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** Kubernetes' resource.Quantity: a decimal with an optional binary (Ki…Ei), decimal (n…E) or exponent suffix. */
const QUANTITY = /^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;
/** Environment variable names the API server accepts. */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Labels and annotations under this prefix are Weft's own (the launcher finds and fences its pods by them). */
export const RESERVED_PREFIX = 'weft.dev/';

export const dnsLabel = z
  .string()
  .max(63)
  .regex(DNS_LABEL, { error: 'must be a DNS label: lowercase letters, digits and "-", starting and ending with a letter or digit' });
export const dnsSubdomain = z
  .string()
  .max(253)
  .regex(DNS_SUBDOMAIN, { error: 'must be a DNS subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit' });

function isQualifiedName(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && LABEL_NAME.test(name);
}

const QUALIFIED_NAME_ERROR =
  'must be a qualified name: an optional DNS-subdomain prefix and "/", then up to 63 letters, digits, "-", "_" or "."';
const qualifiedName = z.string().refine(isQualifiedName, { error: QUALIFIED_NAME_ERROR });
const weftKey = (what: string) =>
  z
    .string()
    .refine(isQualifiedName, { error: QUALIFIED_NAME_ERROR })
    .refine((key) => !key.startsWith(RESERVED_PREFIX), { error: `${what} under "${RESERVED_PREFIX}" are set by Weft` });
const labelKey = weftKey('labels');
const labelValue = z
  .string()
  .max(63)
  .regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/, { error: 'must be up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit' });
const annotationKey = weftKey('annotations');

export const quantity = z.union([
  z.number().nonnegative(),
  z.string().regex(QUANTITY, { error: 'must be a Kubernetes quantity such as 500m, 2, 1.5Gi or 100M' }),
]);
const resourceList = z.record(qualifiedName, quantity);
export const resourcesSchema = z.strictObject({ requests: resourceList.optional(), limits: resourceList.optional() });

export const envName = z.string().regex(ENV_NAME, { error: 'must be letters, digits, "_", "-" or ".", not starting with a digit' });

export const tolerationSchema = z
  .strictObject({
    key: qualifiedName.optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: labelValue.optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: z.int().optional(),
  })
  .refine((t) => t.operator !== 'Exists' || t.value === undefined || t.value === '', {
    error: "a toleration with operator 'Exists' takes no value",
    path: ['value'],
  })
  .refine((t) => t.key !== undefined || t.operator === 'Exists', {
    error: "a toleration without a key must have operator 'Exists'",
    path: ['operator'],
  });

/** A Pod volume: a name and one volume source, as in Kubernetes (which checks the source). */
export const volumeSchema = z.looseObject({ name: dnsLabel });

export const volumeMountSchema = z.strictObject({
  name: dnsLabel,
  mountPath: z.string().min(1),
  readOnly: z.boolean().optional(),
  subPath: z.string().optional(),
  subPathExpr: z.string().optional(),
  mountPropagation: z.enum(['None', 'HostToContainer', 'Bidirectional']).optional(),
});

/** A Secret whose keys become environment variables (Kubernetes `envFrom.secretRef`), optionally prefixed. */
export const secretEnvSchema = z.union([
  dnsSubdomain,
  z.strictObject({ name: dnsSubdomain, prefix: envName.optional(), optional: z.boolean().optional() }),
]);

const keyedItem = (key: string) => z.looseObject({ [key]: z.unknown() }).refine((item) => item[key] !== undefined || item.$patch !== undefined, {
  error: `each item needs its '${key}' (items are merged by it)`,
});
const container = z.looseObject({
  name: dnsLabel,
  env: z.array(keyedItem('name')).optional(),
  volumeMounts: z.array(keyedItem('mountPath')).optional(),
});

/**
 * A partial Pod (metadata and spec) merged over the levels before it (docs/kubernetes.md#how-templates-merge).
 * The main container is the one named `base`.
 */
export const podTemplateSchema = z.strictObject({
  metadata: z
    .strictObject({
      namespace: dnsLabel.optional(),
      labels: z.record(labelKey, labelValue.nullable()).optional(),
      annotations: z.record(annotationKey, z.string().nullable()).optional(),
    })
    .optional(),
  spec: z
    .looseObject({
      containers: z.array(container).optional(),
      initContainers: z.array(container).optional(),
      volumes: z.array(keyedItem('name')).optional(),
      tolerations: z.array(z.looseObject({})).optional(),
      nodeSelector: z.record(labelKey, labelValue.nullable()).optional(),
      serviceAccountName: dnsSubdomain.optional(),
      restartPolicy: z.literal('Never', { error: "Weft runs each attempt once: restartPolicy can only be 'Never'" }).optional(),
    })
    .optional(),
});

export type PodTemplate = z.output<typeof podTemplateSchema>;

/** The fields of a `container` task (besides the common task fields). */
export const containerTaskShape = {
  image: z.string().min(1).max(1000).regex(/^\S+$/, { error: 'must be an image reference without spaces' }).optional(),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.record(envName, z.string()).optional(),
  secrets: z.array(secretEnvSchema).optional(),
  resources: resourcesSchema.optional(),
  nodeSelector: z.record(labelKey, labelValue).optional(),
  tolerations: z.array(tolerationSchema).optional(),
  volumes: z.array(volumeSchema).optional(),
  volumeMounts: z.array(volumeMountSchema).optional(),
  serviceAccount: dnsSubdomain.optional(),
  namespace: dnsLabel.optional(),
  startupTimeoutSec: z.number().positive().max(7 * 86_400).optional(),
  podTemplate: podTemplateSchema.optional(),
};

/** The name of the container that runs the task; pod templates may add others (sidecars). */
export const BASE_CONTAINER = 'base';
