import { describe, expect, it } from '@jest/globals';
import { initialReadyTasks, resolveDownstream, resolvePending, type Resolution } from './resolve.js';
import { indexTaskGraph, type TaskGraph, type TaskNode } from './task-graph.js';
import type { TaskState } from './task-state.js';
import { TRIGGER_RULES, type TriggerRule } from '../../../dags/domain/trigger-rule-names.js';
import { evaluateTriggerRule } from './trigger-rules.js';

function dag(
  upstreams: Record<string, string[]>,
  rules: Record<string, TriggerRule> = {},
  kinds: Record<string, Pick<TaskNode, 'mapped' | 'inline' | 'decides'>> = {},
): TaskGraph {
  return new Map(
    Object.entries(upstreams).map(([taskId, upstream]) => [
      taskId,
      { upstream, triggerRule: rules[taskId] ?? 'all_success', ...kinds[taskId] },
    ]),
  );
}

/** A state per task; a list gives a mapped task one instance per state. */
function states(entries: Record<string, TaskState | TaskState[]>): Map<string, TaskState[]> {
  return new Map(Object.entries(entries).map(([taskId, s]) => [taskId, Array.isArray(s) ? s : [s]]));
}

function lift(single: ReadonlyMap<string, TaskState>): Map<string, TaskState[]> {
  return new Map([...single].map(([taskId, state]) => [taskId, [state]]));
}

/** Changes as `taskId: state`, in the order returned, then `taskId: deferred` for each deferred task. */
function summary(resolution: Resolution): string[] {
  for (const change of resolution.changes) expect(change.from).toBe('none');
  return [
    ...resolution.changes.map((change) => `${change.taskId}: ${change.to}`),
    ...resolution.deferred.map((taskId) => `${taskId}: deferred`),
  ];
}

const DIAMOND = dag({ A: [], B: ['A'], C: ['A'], D: ['B', 'C'] });

describe('initialReadyTasks', () => {
  it('schedules the roots of a new run', () => {
    expect(summary(initialReadyTasks(DIAMOND))).toEqual(['A: scheduled']);
  });

  it('schedules every root and any task whose rule is always', () => {
    const graph = dag({ a: [], b: [], c: ['a', 'b'], d: ['c'] }, { d: 'always' });
    expect(summary(initialReadyTasks(graph))).toEqual(['a: scheduled', 'b: scheduled', 'd: scheduled']);
  });
});

describe('resolveDownstream', () => {
  it('schedules both branches of a diamond when its root succeeds', () => {
    const current = states({ A: 'success', B: 'none', C: 'none', D: 'none' });
    expect(summary(resolveDownstream(DIAMOND, current, ['A']))).toEqual(['B: scheduled', 'C: scheduled']);
  });

  it('marks the join upstream_failed as soon as one branch fails, without waiting for the other', () => {
    const current = states({ A: 'success', B: 'failed', C: 'running', D: 'none' });
    expect(summary(resolveDownstream(DIAMOND, current, ['B']))).toEqual(['D: upstream_failed']);
  });

  it('waits while the join still has an unfinished upstream', () => {
    const current = states({ A: 'success', B: 'success', C: 'up_for_retry', D: 'none' });
    expect(summary(resolveDownstream(DIAMOND, current, ['B']))).toEqual([]);
  });

  it('schedules the join when the last branch succeeds', () => {
    const current = states({ A: 'success', B: 'success', C: 'success', D: 'none' });
    expect(summary(resolveDownstream(DIAMOND, current, ['C']))).toEqual(['D: scheduled']);
  });

  it('propagates upstream_failed through five levels in one call', () => {
    const chain = dag({ t0: [], t1: ['t0'], t2: ['t1'], t3: ['t2'], t4: ['t3'], t5: ['t4'] });
    const current = states({ t0: 'failed', t1: 'none', t2: 'none', t3: 'none', t4: 'none', t5: 'none' });
    expect(summary(resolveDownstream(chain, current, ['t0']))).toEqual([
      't1: upstream_failed',
      't2: upstream_failed',
      't3: upstream_failed',
      't4: upstream_failed',
      't5: upstream_failed',
    ]);
  });

  it('runs an all_done join once a failure has propagated into its other branch', () => {
    const graph = dag({ A: [], B: ['A'], B2: ['B'], C: ['A'], J: ['B2', 'C'], K: ['J'] }, { J: 'all_done' });
    const current = states({ A: 'success', B: 'failed', B2: 'none', C: 'success', J: 'none', K: 'none' });
    expect(summary(resolveDownstream(graph, current, ['B']))).toEqual(['B2: upstream_failed', 'J: scheduled']);
  });

  it('runs a one_success join on the first success and fails it when no branch can succeed', () => {
    const graph = dag({ B: [], C: [], J: ['B', 'C'] }, { J: 'one_success' });
    expect(summary(resolveDownstream(graph, states({ B: 'success', C: 'running' }), ['B']))).toEqual(['J: scheduled']);
    expect(summary(resolveDownstream(graph, states({ B: 'failed', C: 'failed' }), ['C']))).toEqual([
      'J: upstream_failed',
    ]);
    expect(summary(resolveDownstream(graph, states({ B: 'skipped', C: 'skipped' }), ['C']))).toEqual(['J: skipped']);
    expect(summary(resolveDownstream(graph, states({ B: 'failed', C: 'running' }), ['B']))).toEqual([]);
  });

  it('propagates skipped under all_success', () => {
    const graph = dag({ branch: [], a: ['branch'], b: ['a'], c: ['b'] });
    const current = states({ branch: 'skipped', a: 'none', b: 'none', c: 'none' });
    expect(summary(resolveDownstream(graph, current, ['branch']))).toEqual(['a: skipped', 'b: skipped', 'c: skipped']);
  });

  it('joins a skipped branch with none_failed', () => {
    const graph = dag({ pick: [], left: ['pick'], leftNext: ['left'], right: ['pick'], join: ['leftNext', 'right'] }, {
      join: 'none_failed',
    });
    const current = states({ pick: 'success', left: 'skipped', leftNext: 'none', right: 'success', join: 'none' });
    expect(summary(resolveDownstream(graph, current, ['left']))).toEqual(['leftNext: skipped', 'join: scheduled']);
  });

  it('stops at an all_failed task when everything succeeded, and runs it after failures', () => {
    const graph = dag({ a: [], b: [], onFailure: ['a', 'b'], after: ['onFailure'] }, { onFailure: 'all_failed' });
    expect(summary(resolveDownstream(graph, states({ a: 'success', b: 'running' }), ['a']))).toEqual([
      'onFailure: skipped',
      'after: skipped',
    ]);
    expect(summary(resolveDownstream(graph, states({ a: 'failed', b: 'upstream_failed' }), ['b']))).toEqual([
      'onFailure: scheduled',
    ]);
  });

  it('only changes tasks that are still none', () => {
    const current = states({ A: 'failed', B: 'scheduled', C: 'success', D: 'none' });
    expect(summary(resolveDownstream(DIAMOND, current, ['A']))).toEqual([]);
  });

  it('evaluates the downstream of several finished tasks together, once each', () => {
    const current = states({ A: 'success', B: 'success', C: 'success', D: 'none' });
    expect(summary(resolveDownstream(DIAMOND, current, ['B', 'C', 'B']))).toEqual(['D: scheduled']);
  });

  it('treats a task with no state entry as none, and ignores unknown finished ids', () => {
    expect(summary(resolveDownstream(DIAMOND, states({ A: 'success' }), ['A', 'ghost']))).toEqual([
      'B: scheduled',
      'C: scheduled',
    ]);
  });

  it('ignores a removed upstream', () => {
    const current = states({ A: 'success', B: 'removed', C: 'success', D: 'none' });
    expect(summary(resolveDownstream(DIAMOND, current, ['C']))).toEqual(['D: scheduled']);
  });

  it('accepts a prebuilt index', () => {
    const current = states({ A: 'failed', B: 'none', C: 'none', D: 'none' });
    const expected = resolveDownstream(DIAMOND, current, ['A']);
    expect(resolveDownstream(indexTaskGraph(DIAMOND), current, ['A'])).toEqual(expected);
  });
});

describe('mapped tasks', () => {
  const MAP = dag({ list: [], load: ['list'], sum: ['load'] }, {}, { load: { mapped: true } });

  it('defers a mapped task to the engine when its rule is met, and goes no further', () => {
    expect(summary(resolveDownstream(MAP, states({ list: 'success' }), ['list']))).toEqual(['load: deferred']);
  });

  it('gives up on a mapped task like any other when its rule cannot be met', () => {
    expect(summary(resolveDownstream(MAP, states({ list: 'failed' }), ['list']))).toEqual([
      'load: upstream_failed',
      'sum: upstream_failed',
    ]);
  });

  it('waits for every mapped instance, and counts each in the trigger rule', () => {
    const running = states({ list: 'success', load: ['success', 'running', 'success'], sum: 'none' });
    expect(summary(resolveDownstream(MAP, running, ['load']))).toEqual([]);
    const done = states({ list: 'success', load: ['success', 'success', 'success'], sum: 'none' });
    expect(summary(resolveDownstream(MAP, done, ['load']))).toEqual(['sum: scheduled']);
    const oneFailed = states({ list: 'success', load: ['success', 'failed', 'success'], sum: 'none' });
    expect(summary(resolveDownstream(MAP, oneFailed, ['load']))).toEqual(['sum: upstream_failed']);
  });

  it('counts mapped instances one by one under one_failed and none_failed_min_one_success', () => {
    const graph = dag({ list: [], load: ['list'], alarm: ['load'], join: ['load'] }, { alarm: 'one_failed', join: 'none_failed_min_one_success' }, { load: { mapped: true } });
    const current = states({ list: 'success', load: ['running', 'failed', 'running'], alarm: 'none', join: 'none' });
    expect(summary(resolveDownstream(graph, current, ['load']))).toEqual(['alarm: scheduled', 'join: upstream_failed']);
  });

  it('runs a cleared mapped instance again without expanding the task anew', () => {
    const current = states({ list: 'success', load: ['success', 'none', 'success'], sum: 'none' });
    expect(summary(resolvePending(MAP, current))).toEqual(['load: scheduled']);
  });

  it('expands a mapped task again when all of its instances were cleared', () => {
    const current = states({ list: 'success', load: ['none', 'none', 'none'], sum: 'none' });
    expect(summary(resolvePending(MAP, current))).toEqual(['load: deferred']);
  });

  it('ignores removed instances (beyond a shorter list after a re-expansion)', () => {
    const current = states({ list: 'success', load: ['success', 'removed'], sum: 'none' });
    expect(summary(resolveDownstream(MAP, current, ['load']))).toEqual(['sum: scheduled']);
  });

  it('defers a mapped root at the start of a run (a literal list)', () => {
    expect(summary(initialReadyTasks(dag({ each: [], after: ['each'] }, {}, { each: { mapped: true } })))).toEqual(['each: deferred']);
  });
});

describe('branches', () => {
  //        ┌→ full ──────┐
  // pick ──┤             ├→ join (none_failed_min_one_success) → report
  //        └→ incr → fix ┘
  const BRANCH = dag(
    { pick: [], full: ['pick'], incr: ['pick'], fix: ['incr'], join: ['full', 'fix'], report: ['join'] },
    { join: 'none_failed_min_one_success' },
    { pick: { decides: 'branch' } },
  );

  it('skips the direct downstream tasks a branch did not follow, and joins with none_failed_min_one_success', () => {
    const chosen = states({ pick: 'success' });
    const res = resolveDownstream(BRANCH, chosen, ['pick'], new Map([['pick', ['full']]]));
    expect(summary(res)).toEqual(['full: scheduled', 'incr: skipped', 'fix: skipped']);
    const after = states({ pick: 'success', full: 'success', incr: 'skipped', fix: 'skipped' });
    expect(summary(resolveDownstream(BRANCH, after, ['full'], new Map([['pick', ['full']]])))).toEqual(['join: scheduled']);
  });

  it('skips every direct downstream task when the branch follows nothing, down to the join', () => {
    const res = resolveDownstream(BRANCH, states({ pick: 'success' }), ['pick'], new Map([['pick', []]]));
    expect(summary(res)).toEqual(['full: skipped', 'incr: skipped', 'fix: skipped', 'join: skipped', 'report: skipped']);
  });

  it('lets a direct downstream task through when it is downstream of a followed task too (Airflow)', () => {
    const graph = dag({ pick: [], a: ['pick'], b: ['pick'], join: ['pick', 'a'] }, {}, { pick: { decides: 'branch' } });
    const res = resolveDownstream(graph, states({ pick: 'success' }), ['pick'], new Map([['pick', ['a']]]));
    expect(summary(res)).toEqual(['a: scheduled', 'b: skipped']);
  });

  it('honours a decision when a skipped task is cleared and evaluated again', () => {
    const current = states({ pick: 'success', full: 'success', incr: 'none', fix: 'skipped', join: 'success', report: 'success' });
    expect(summary(resolvePending(BRANCH, current, new Map([['pick', ['full']]])))).toEqual(['incr: skipped']);
  });

  it('has no say once the branch task is no longer a success (cleared or marked)', () => {
    const current = states({ pick: 'failed', full: 'none', incr: 'none', fix: 'none', join: 'none', report: 'none' });
    const res = resolveDownstream(BRANCH, current, ['pick'], new Map([['pick', ['full']]]));
    expect(summary(res)).toEqual(['full: upstream_failed', 'incr: upstream_failed', 'fix: upstream_failed', 'join: upstream_failed', 'report: upstream_failed']);
  });

  it('defers a built-in branch to the engine', () => {
    const graph = dag({ start: [], pick: ['start'], a: ['pick'] }, {}, { pick: { inline: true, decides: 'branch' } });
    expect(summary(resolveDownstream(graph, states({ start: 'success' }), ['start']))).toEqual(['pick: deferred']);
  });
});

describe('short-circuits', () => {
  // check → a → b ; c → b ; b has rule all_done
  const upstreams = { check: [], a: ['check'], c: [], b: ['a', 'c'], after: ['b'] };

  it('skips everything downstream of a falsy short-circuit, whatever the trigger rules (the default)', () => {
    const graph = dag(upstreams, { b: 'all_done' }, { check: { decides: 'short_circuit_all' } });
    const res = resolveDownstream(graph, states({ check: 'success', c: 'success' }), ['check'], new Map([['check', []]]));
    expect(summary(res)).toEqual(['a: skipped', 'b: skipped', 'after: skipped']);
  });

  it('skips only the direct downstream tasks when the trigger rules are respected', () => {
    const graph = dag(upstreams, { b: 'all_done' }, { check: { decides: 'short_circuit' } });
    const res = resolveDownstream(graph, states({ check: 'success', c: 'success' }), ['check'], new Map([['check', []]]));
    expect(summary(res)).toEqual(['a: skipped', 'b: scheduled']);
  });

  it('lets everything through on a truthy result (no decision recorded)', () => {
    const graph = dag(upstreams, { b: 'all_done' }, { check: { decides: 'short_circuit_all' } });
    expect(summary(resolveDownstream(graph, states({ check: 'success', c: 'success' }), ['check']))).toEqual(['a: scheduled']);
  });
});

describe('resolvePending', () => {
  it('re-evaluates cleared tasks whose upstreams are already finished', () => {
    const current = states({ A: 'success', B: 'none', C: 'failed', D: 'none' });
    expect(summary(resolvePending(DIAMOND, current))).toEqual(['B: scheduled', 'D: upstream_failed']);
  });

  // Outcomes can depend on evaluation order (all_success over [skipped, none] skips at once, while the same task
  // would become upstream_failed if the none upstream failed first), so the reference also walks in topological order.
  it('reaches the same result as evaluating every none task until nothing changes', () => {
    const random = seededRandom(7);
    const others: TaskState[] = ['success', 'failed', 'skipped', 'upstream_failed', 'running', 'up_for_retry'];
    let compared = 0;
    for (let round = 0; round < 200; round++) {
      const graph = randomDag(random, 25);
      const current = new Map<string, TaskState>();
      for (const taskId of graph.keys()) {
        current.set(taskId, random() < 0.5 ? 'none' : others[Math.floor(random() * others.length)]);
      }
      const fixpoint = naiveFixpoint(graph, current);
      const resolved = new Map(resolvePending(graph, lift(current)).changes.map((change) => [change.taskId, change.to]));
      expect(resolved).toEqual(fixpoint);
      compared += resolved.size;
    }
    expect(compared).toBeGreaterThan(500);
  });
});

describe('resolveDownstream against the reference', () => {
  it('changes exactly what evaluating every none task would, after some tasks finish in a settled run', () => {
    const random = seededRandom(11);
    const outcomes: TaskState[] = ['success', 'failed', 'skipped'];
    let compared = 0;
    for (let round = 0; round < 200; round++) {
      const graph = randomDag(random, 25);
      // Settle the run first: nothing in none may be decidable before the new finishes.
      const settled = new Map<string, TaskState>();
      for (const taskId of graph.keys()) settled.set(taskId, random() < 0.6 ? 'none' : 'success');
      for (const change of resolvePending(graph, lift(settled)).changes) settled.set(change.taskId, change.to);
      for (const [taskId, state] of settled) {
        if (state === 'scheduled' && random() < 0.5) settled.set(taskId, 'running');
      }

      const finished = [...settled].filter(([, state]) => state === 'scheduled' || state === 'running');
      const finishedIds = finished.filter(() => random() < 0.5).map(([taskId]) => taskId);
      const current = new Map(settled);
      for (const taskId of finishedIds) current.set(taskId, outcomes[Math.floor(random() * outcomes.length)]);

      const { changes } = resolveDownstream(graph, lift(current), finishedIds);
      const resolved = new Map(changes.map((change) => [change.taskId, change.to]));
      expect(resolved).toEqual(naiveFixpoint(graph, current));
      compared += resolved.size;
    }
    expect(compared).toBeGreaterThan(200);
  });
});

describe('on a 1,000-task DAG', () => {
  it('fails a 1,000-long chain in one call', () => {
    const upstreams: Record<string, string[]> = { t0: [] };
    for (let i = 1; i < 1000; i++) upstreams[`t${i}`] = [`t${i - 1}`];
    const current = new Map<string, TaskState>(Object.keys(upstreams).map((taskId) => [taskId, 'none']));
    current.set('t0', 'failed');
    const { changes } = resolveDownstream(dag(upstreams), lift(current), ['t0']);
    expect(changes).toHaveLength(999);
    expect(changes.every((change) => change.to === 'upstream_failed')).toBe(true);
  });

  it('fails a fan-out of 998 tasks and their 998-way join in one call', () => {
    const upstreams: Record<string, string[]> = { root: [] };
    const middles = Array.from({ length: 998 }, (_, i) => `m${i}`);
    for (const middle of middles) upstreams[middle] = ['root'];
    upstreams.join = middles;
    const current = new Map<string, TaskState>(Object.keys(upstreams).map((taskId) => [taskId, 'none']));
    current.set('root', 'failed');
    const { changes } = resolveDownstream(dag(upstreams, { join: 'all_done' }), lift(current), ['root']);
    expect(changes).toHaveLength(999);
    expect(changes.at(-1)).toEqual({ taskId: 'join', from: 'none', to: 'scheduled' });
  });
});

function naiveFixpoint(graph: TaskGraph, initial: ReadonlyMap<string, TaskState>): Map<string, TaskState> {
  const current = new Map(initial);
  const changes = new Map<string, TaskState>();
  const order = indexTaskGraph(graph).topologicalOrder;
  for (let changed = true; changed; ) {
    changed = false;
    for (const taskId of order) {
      const node = graph.get(taskId)!;
      if (current.get(taskId) !== 'none') continue;
      const outcome = evaluateTriggerRule(node.triggerRule, node.upstream.map((id) => current.get(id)!));
      if (outcome === 'wait') continue;
      const to = outcome === 'ready' ? 'scheduled' : outcome;
      current.set(taskId, to);
      changes.set(taskId, to);
      changed = true;
    }
  }
  return changes;
}

/** Tasks named in a shuffled order, each depending on up to three earlier ones, with random rules. */
function randomDag(random: () => number, size: number): TaskGraph {
  const ids = Array.from({ length: size }, (_, i) => `t${i}`);
  const upstreams: Record<string, string[]> = {};
  const rules: Record<string, TriggerRule> = {};
  ids.forEach((taskId, i) => {
    const upstream = new Set<string>();
    const count = i === 0 ? 0 : Math.floor(random() * 4);
    for (let k = 0; k < count; k++) upstream.add(ids[Math.floor(random() * i)]);
    upstreams[taskId] = [...upstream];
    rules[taskId] = TRIGGER_RULES[Math.floor(random() * TRIGGER_RULES.length)];
  });
  const shuffled = Object.entries(upstreams).sort(() => random() - 0.5);
  return dag(Object.fromEntries(shuffled), rules);
}

/** mulberry32: a small deterministic generator, so a failure reproduces. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
