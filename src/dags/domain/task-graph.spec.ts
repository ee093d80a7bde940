import { describe, expect, it } from '@jest/globals';
import { detectCycle, detectCycles, formatCycle, topologicalOrder, upstreamChecker, type TaskGraphNode } from './task-graph.js';

const node = (taskId: string, ...dependsOn: string[]): TaskGraphNode => ({ taskId, dependsOn });
const ids = (tasks: readonly TaskGraphNode[]) => tasks.map((t) => t.taskId);
const chain = (n: number) => Array.from({ length: n }, (_, i) => node(`t${i}`, ...(i === 0 ? [] : [`t${i - 1}`])));

describe(topologicalOrder.name, () => {
  it('puts every task after its upstream tasks, keeping declaration order among ready tasks', () => {
    const tasks = [node('load', 'extract_b', 'extract_a'), node('extract_b'), node('report', 'load'), node('extract_a'), node('audit')];
    expect(ids(topologicalOrder(tasks))).toEqual(['extract_b', 'extract_a', 'load', 'report', 'audit']);
  });

  it('prefers the earliest-declared ready task even when it became ready later', () => {
    const tasks = [node('c', 'a'), node('a'), node('b')];
    expect(ids(topologicalOrder(tasks))).toEqual(['a', 'c', 'b']);
  });

  it('returns the same objects it was given', () => {
    const tasks = [{ taskId: 'a', dependsOn: [], extra: 1 }];
    expect(topologicalOrder(tasks)[0]).toBe(tasks[0]);
  });

  it('orders a 1,000-task chain declared backwards', () => {
    const tasks = chain(1000).reverse();
    expect(ids(topologicalOrder(tasks))).toEqual(ids(chain(1000)));
  });

  it('throws on a cycle, naming it', () => {
    expect(() => topologicalOrder([node('a', 'b'), node('b', 'a')])).toThrow('cycle detected: a -> b -> a');
  });

  it('throws on a dependency that names no task', () => {
    expect(() => topologicalOrder([node('a', 'ghost')])).toThrow("'a' depends on unknown task 'ghost'");
  });
});

describe(detectCycles.name, () => {
  it('finds none in a DAG', () => {
    expect(detectCycles([node('a'), node('b', 'a'), node('c', 'a', 'b')])).toEqual([]);
    expect(detectCycle([node('a'), node('b', 'a')])).toBeNull();
  });

  it('lists a cycle in edge order from its earliest-declared task', () => {
    expect(detectCycle([node('b', 'a'), node('c', 'b'), node('a', 'c')])).toEqual(['b', 'c', 'a']);
  });

  it('treats a task depending on itself as a cycle', () => {
    expect(detectCycle([node('a', 'a')])).toEqual(['a']);
  });

  it('reports one cycle per group of mutually dependent tasks, shortest through its first task', () => {
    const tasks = [
      node('a', 'c', 'b'),
      node('b', 'a'),
      node('c', 'b'),
      node('free', 'a'),
      node('x', 'y'),
      node('y', 'x'),
    ];
    expect(detectCycles(tasks)).toEqual([
      ['a', 'b'],
      ['x', 'y'],
    ]);
  });

  it('ignores dependencies on unknown tasks', () => {
    expect(detectCycles([node('a', 'ghost')])).toEqual([]);
  });

  it('handles a 1,000-task cycle without deep recursion', () => {
    const tasks = chain(1000);
    tasks[0] = node('t0', 't999');
    const cycle = detectCycle(tasks);
    expect(cycle).toHaveLength(1000);
    expect(cycle?.slice(0, 3)).toEqual(['t0', 't1', 't2']);
  });
});

describe(formatCycle.name, () => {
  it('closes the loop', () => {
    expect(formatCycle(['a', 'b', 'c'])).toBe('a -> b -> c -> a');
  });
});

describe(upstreamChecker.name, () => {
  it('knows direct and transitive upstream tasks, not downstream, unrelated or unknown ones', () => {
    const isUpstream = upstreamChecker([node('d', 'c'), node('a'), node('b', 'a'), node('c', 'b'), node('e')]);
    expect(isUpstream('a', 'c')).toBe(true);
    expect(isUpstream('b', 'd')).toBe(true);
    expect(isUpstream('c', 'b')).toBe(false);
    expect(isUpstream('e', 'd')).toBe(false);
    expect(isUpstream('a', 'a')).toBe(false);
    expect(isUpstream('ghost', 'd')).toBe(false);
  });

  it('answers for tasks in or below a cycle too', () => {
    const isUpstream = upstreamChecker([node('root'), node('a', 'root', 'b'), node('b', 'a'), node('leaf', 'b')]);
    expect(isUpstream('root', 'leaf')).toBe(true);
    expect(isUpstream('a', 'a')).toBe(true);
    expect(isUpstream('leaf', 'a')).toBe(false);
  });

  it('spans every word of the bitset in a 1,000-task chain', () => {
    const isUpstream = upstreamChecker(chain(1000));
    expect(isUpstream('t0', 't999')).toBe(true);
    expect(isUpstream('t998', 't999')).toBe(true);
    expect(isUpstream('t999', 't0')).toBe(false);
    expect(isUpstream('t31', 't32')).toBe(true);
    expect(isUpstream('t33', 't32')).toBe(false);
  });
});
