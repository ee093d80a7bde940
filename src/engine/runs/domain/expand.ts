/** The values of one `expand` key, as the DAG document gives them. */
export type ExpandSource = readonly unknown[] | { readonly xcomPull: { readonly taskId: string; readonly key?: string } };

/** What an upstream XCom pull found: absent, or its value (a mapped upstream's is the list of its instances' values). */
export type PulledXcom = { found: false } | { found: true; value: unknown };

/**
 * How a mapped task expands when its trigger rule is met: one instance per combination of its keys' values; none
 * (the task is skipped, as Airflow skips an empty expansion); or a failure the task takes without running (a value
 * that is not a list, a missing XCom, more combinations than allowed).
 */
export type Expansion =
  | { kind: 'mapped'; values: Record<string, unknown>[] }
  | { kind: 'empty' }
  | { kind: 'failed'; error: string };

export const DEFAULT_XCOM_KEY = 'return_value';

/**
 * The instances of a mapped task: the cross product of its keys' lists, keys in alphabetical order, the first varying
 * slowest (Airflow's order for several expand arguments), so map index i is always the same combination for the same
 * inputs. `pull` reads an upstream task's XCom. Fails beyond `maxLength` instances before building any.
 */
export function expandTask(
  taskId: string,
  expand: Readonly<Record<string, ExpandSource>>,
  pull: (taskId: string, key: string) => PulledXcom,
  maxLength: number,
): Expansion {
  const keys = Object.keys(expand).sort();
  const lists: unknown[][] = [];
  for (const key of keys) {
    const source = expand[key]!;
    if (Array.isArray(source)) {
      lists.push(source as unknown[]);
      continue;
    }
    const { taskId: from, key: xcomKey = DEFAULT_XCOM_KEY } = (source as { xcomPull: { taskId: string; key?: string } }).xcomPull;
    const pulled = pull(from, xcomKey);
    if (!pulled.found) {
      return { kind: 'failed', error: `cannot expand '${taskId}': expand.${key} pulls XCom '${xcomKey}' of '${from}', which it did not publish` };
    }
    if (!Array.isArray(pulled.value)) {
      return {
        kind: 'failed',
        error:
          `cannot expand '${taskId}': expand.${key} needs a list, but XCom '${xcomKey}' of '${from}' is ${describe(pulled.value)} ` +
          `(a shell task publishes a JSON list with "xcomFormat": "json")`,
      };
    }
    lists.push(pulled.value);
  }
  let total = 1;
  for (const list of lists) total *= list.length;
  if (total === 0) return { kind: 'empty' };
  if (total > maxLength) {
    const sizes = lists.map((l, i) => `${keys[i]}: ${l.length}`).join(', ');
    return {
      kind: 'failed',
      error: `cannot expand '${taskId}': ${total} instances (${sizes}) is over the limit of ${maxLength} (WEFT_MAX_MAP_LENGTH)`,
    };
  }
  const values: Record<string, unknown>[] = [];
  const pick = new Array<number>(keys.length).fill(0);
  for (let n = 0; n < total; n++) {
    const combination: Record<string, unknown> = {};
    keys.forEach((key, i) => (combination[key] = lists[i]![pick[i]!]));
    values.push(combination);
    for (let i = keys.length - 1; i >= 0; i--) {
      if (++pick[i]! < lists[i]!.length) break;
      pick[i] = 0;
    }
  }
  return { kind: 'mapped', values };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `a string (${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)})`;
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value} (${String(value)})`;
}

/** The XCom pulls an expansion makes: every `xcomPull` among its keys. */
export function expandPulls(expand: Readonly<Record<string, ExpandSource>>): { taskId: string; key: string }[] {
  return Object.values(expand).flatMap((source) =>
    Array.isArray(source) ? [] : [{ taskId: (source as { xcomPull: { taskId: string } }).xcomPull.taskId, key: (source as { xcomPull: { key?: string } }).xcomPull.key ?? DEFAULT_XCOM_KEY }],
  );
}
