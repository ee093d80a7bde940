import { describe, expect, it } from '@jest/globals';
import { indexTaskGraph } from './task-graph.js';
import { selectTasks } from './select-tasks.js';

// a -> b -> d, a -> c -> d, d -> e ; x stands alone
const index = indexTaskGraph(
  new Map([
    ['a', { upstream: [], triggerRule: 'all_success' as const }],
    ['b', { upstream: ['a'], triggerRule: 'all_success' as const }],
    ['c', { upstream: ['a'], triggerRule: 'all_success' as const }],
    ['d', { upstream: ['b', 'c'], triggerRule: 'all_success' as const }],
    ['e', { upstream: ['d'], triggerRule: 'all_success' as const }],
    ['x', { upstream: [], triggerRule: 'all_success' as const }],
  ]),
);

const sorted = (s: Set<string>) => [...s].sort();

describe('selectTasks', () => {
  it('selects only the seeds by default and ignores unknown ids', () => {
    expect(sorted(selectTasks(index, ['b', 'ghost']))).toEqual(['b']);
  });
  it('adds everything downstream', () => {
    expect(sorted(selectTasks(index, ['b'], { downstream: true }))).toEqual(['b', 'd', 'e']);
  });
  it('adds everything upstream', () => {
    expect(sorted(selectTasks(index, ['d'], { upstream: true }))).toEqual(['a', 'b', 'c', 'd']);
  });
  it('adds both directions', () => {
    expect(sorted(selectTasks(index, ['c'], { upstream: true, downstream: true }))).toEqual(['a', 'c', 'd', 'e']);
  });
});
