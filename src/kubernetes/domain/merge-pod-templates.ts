/**
 * Merges partial Pod manifests (pod templates) the way a Kubernetes strategic merge patch does, for the fields Weft
 * documents (docs/kubernetes.md#how-templates-merge): maps merge key by key, `null` removes a key, lists with a merge
 * key in Kubernetes' API (containers by `name`, env by `name`, volumeMounts by `mountPath`, …) merge item by item,
 * every other list is replaced whole. The directives `$patch: replace` (on a map, or as a list item) and
 * `$patch: delete` (on a keyed list item) work as in Kubernetes. One deliberate difference: tolerations, atomic in
 * Kubernetes, are keyed by (key, effect) here, as the PodTolerationRestriction admission plugin merges them, so a task
 * adds to the tolerations its cluster and DAG give it and can override one for the same taint.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

type ListRule = { key: (item: JsonObject) => string | undefined; retainKeys?: boolean };

const byField =
  (field: string) =>
  (item: JsonObject): string | undefined => {
    const value = item[field];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  };

const CONTAINER_LISTS: Record<string, ListRule> = {
  env: { key: byField('name') },
  volumeMounts: { key: byField('mountPath') },
  volumeDevices: { key: byField('devicePath') },
  ports: { key: byField('containerPort') },
};

/** Keyed lists by path from the Pod's root; `[]` stands for "any item of the list". */
const LIST_RULES: Record<string, ListRule> = {
  'spec.containers': { key: byField('name') },
  'spec.initContainers': { key: byField('name') },
  'spec.ephemeralContainers': { key: byField('name') },
  'spec.volumes': { key: byField('name'), retainKeys: true },
  'spec.imagePullSecrets': { key: byField('name') },
  'spec.hostAliases': { key: byField('ip') },
  'spec.tolerations': {
    key: (t) => `${typeof t.key === 'string' ? t.key : ''}\u0000${typeof t.effect === 'string' ? t.effect : ''}`,
  },
  ...Object.fromEntries(
    ['containers', 'initContainers', 'ephemeralContainers'].flatMap((list) =>
      Object.entries(CONTAINER_LISTS).map(([field, rule]) => [`spec.${list}[].${field}`, rule]),
    ),
  ),
};

/** Merges templates in order, each later one patching the result of the earlier ones. Inputs are not modified. */
export function mergePodTemplates(...templates: Array<JsonObject | undefined>): JsonObject {
  let merged: JsonObject = {};
  for (const template of templates) {
    if (template === undefined) continue;
    const next = mergeValue(merged, template, '');
    merged = isObject(next) ? next : {};
  }
  return merged;
}

function mergeValue(base: JsonValue | undefined, patch: JsonValue, path: string): JsonValue | undefined {
  if (isObject(patch)) {
    const directive = patch.$patch;
    if (directive === 'replace') return clean(withoutDirective(patch));
    if (directive === 'delete') return undefined;
    if (!isObject(base)) return clean(patch);
    const out: JsonObject = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (key === '$patch') continue;
      if (value === null) {
        delete out[key];
        continue;
      }
      const merged = mergeValue(base[key], value, path ? `${path}.${key}` : key);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    }
    return out;
  }
  if (Array.isArray(patch)) {
    const rule = LIST_RULES[path];
    if (!rule || !Array.isArray(base) || patch.some((item) => isObject(item) && item.$patch === 'replace')) {
      return patch.filter((item) => !isDirectiveOnly(item)).map(clean).filter((item) => item !== undefined);
    }
    return mergeKeyedList(base, patch, rule, `${path}[]`);
  }
  return patch;
}

function mergeKeyedList(base: JsonValue[], patch: JsonValue[], rule: ListRule, itemPath: string): JsonValue[] {
  const out = [...base];
  const indexOf = (key: string) => out.findIndex((item) => isObject(item) && rule.key(item) === key);
  for (const item of patch) {
    const key = isObject(item) ? rule.key(item) : undefined;
    if (!isObject(item) || key === undefined) {
      const cleaned = clean(item);
      if (cleaned !== undefined) out.push(cleaned);
      continue;
    }
    const at = indexOf(key);
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at < 0) {
      out.push(clean(withoutDirective(item)) as JsonValue);
      continue;
    }
    const existing = out[at] as JsonObject;
    // retainKeys (volumes): a volume redefined by name keeps only the fields the later level gives, so switching
    // its source (emptyDir to a PVC) does not leave both sources in one volume.
    const start = rule.retainKeys ? pick(existing, Object.keys(item)) : existing;
    out[at] = mergeValue(start, item, itemPath) as JsonValue;
  }
  return out;
}

function pick(obj: JsonObject, keys: string[]): JsonObject {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => keys.includes(k)));
}

/** A copy without directives and without null-valued keys (null means "remove", and there is nothing to remove). */
function clean(value: JsonValue): JsonValue | undefined {
  if (Array.isArray(value)) {
    return value.filter((item) => !isDirectiveOnly(item)).map(clean).filter((item): item is JsonValue => item !== undefined);
  }
  if (isObject(value)) {
    if (value.$patch === 'delete') return undefined;
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      if (key === '$patch' || item === null) continue;
      const cleaned = clean(item);
      if (cleaned !== undefined) out[key] = cleaned;
    }
    return out;
  }
  return value;
}

function withoutDirective(obj: JsonObject): JsonObject {
  const { $patch: _directive, ...rest } = obj;
  return rest;
}

function isDirectiveOnly(item: JsonValue): boolean {
  return isObject(item) && item.$patch === 'replace' && Object.keys(item).length === 1;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
