import type { TaskGraphIndex } from './task-graph.js';

/**
 * The tasks an operator's clear or mark applies to: the seeds plus, when asked, everything transitively
 * downstream and/or upstream of them (Airflow's include_downstream / include_upstream). Unknown ids are ignored.
 */
export function selectTasks(
  index: TaskGraphIndex,
  seeds: Iterable<string>,
  opts: { downstream?: boolean; upstream?: boolean } = {},
): Set<string> {
  const selected = new Set<string>();
  const start = [...seeds].filter((id) => index.graph.has(id));
  for (const id of start) selected.add(id);
  const walk = (next: (id: string) => readonly string[]) => {
    const stack = [...start];
    const seen = new Set(start);
    while (stack.length) {
      for (const n of next(stack.pop()!)) {
        if (seen.has(n)) continue;
        seen.add(n);
        selected.add(n);
        stack.push(n);
      }
    }
  };
  if (opts.downstream) walk((id) => index.downstream.get(id) ?? []);
  if (opts.upstream) walk((id) => index.graph.get(id)?.upstream ?? []);
  return selected;
}
