import { describe, expect, it } from '@jest/globals';
import { indexTaskGraph, type TaskGraph } from './task-graph.js';

function dag(upstreams: Record<string, string[]>): TaskGraph {
  return new Map(
    Object.entries(upstreams).map(([taskId, upstream]) => [taskId, { upstream, triggerRule: 'all_success' }]),
  );
}

describe('indexTaskGraph', () => {
  it('indexes a diamond', () => {
    const index = indexTaskGraph(dag({ D: ['B', 'C'], B: ['A'], C: ['A'], A: [] }));
    expect(index.roots).toEqual(['A']);
    expect(index.leaves).toEqual(['D']);
    expect(Object.fromEntries(index.downstream)).toEqual({ A: ['B', 'C'], B: ['D'], C: ['D'], D: [] });
    expect(index.topologicalOrder).toEqual(['A', 'B', 'C', 'D']);
    expect(Object.fromEntries(index.rank)).toEqual({ A: 0, B: 1, C: 2, D: 3 });
  });

  it('ranks every task after all of its upstreams', () => {
    const graph = dag({ e: ['d', 'a'], d: ['c'], c: ['b'], b: ['a'], a: [], f: [], g: ['f', 'e'] });
    const index = indexTaskGraph(graph);
    for (const [taskId, node] of graph) {
      for (const upstreamId of node.upstream) expect(index.rank.get(upstreamId)!).toBeLessThan(index.rank.get(taskId)!);
    }
    expect(index.roots).toEqual(['a', 'f']);
    expect(index.leaves).toEqual(['g']);
  });

  it('counts a repeated upstream once', () => {
    const index = indexTaskGraph(dag({ A: [], B: ['A', 'A'] }));
    expect(index.downstream.get('A')).toEqual(['B']);
    expect(index.topologicalOrder).toEqual(['A', 'B']);
  });

  it('indexes an empty graph', () => {
    expect(indexTaskGraph(new Map())).toMatchObject({ roots: [], leaves: [], topologicalOrder: [] });
  });

  it('rejects an unknown upstream', () => {
    expect(() => indexTaskGraph(dag({ A: ['ghost'] }))).toThrow("task 'A' depends on unknown task 'ghost'");
  });

  it('rejects a cycle and names the tasks it blocks', () => {
    expect(() => indexTaskGraph(dag({ A: [], B: ['A', 'D'], C: ['B'], D: ['C'], E: ['D'] }))).toThrow(
      'task graph has a cycle; tasks on or after it: B, C, D, E',
    );
  });
});
