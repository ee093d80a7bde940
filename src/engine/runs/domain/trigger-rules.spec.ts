import { describe, expect, it } from '@jest/globals';
import { FINISHED_TASK_STATES, type TaskState } from './task-state.js';
import { DEFAULT_TRIGGER_RULE, isTriggerRule, TRIGGER_RULES, type TriggerRule } from '../../../dags/domain/trigger-rule-names.js';
import { evaluateTriggerRule, type TriggerRuleOutcome } from './trigger-rules.js';

const R = 'ready';
const W = 'wait';
const UF = 'upstream_failed';
const SK = 'skipped';

// Expected outcomes follow Airflow 2.x TriggerRuleDep with flag_upstream_failed on.
// Columns: all_success all_failed all_done one_success one_failed none_failed none_skipped always
// none_failed_min_one_success
const TABLE: [readonly TaskState[], readonly TriggerRuleOutcome[]][] = [
  [[], /*                                   */ [R, R, R, R, R, R, R, R, R]],
  [['success', 'success'], /*               */ [R, SK, R, R, SK, R, R, R, R]],
  [['success', 'running'], /*               */ [W, SK, W, R, W, W, W, R, W]],
  [['success', 'failed'], /*                */ [UF, SK, R, R, R, UF, R, R, UF]],
  [['success', 'upstream_failed'], /*       */ [UF, SK, R, R, R, UF, R, R, UF]],
  [['success', 'skipped'], /*               */ [SK, SK, R, R, SK, R, SK, R, R]],
  [['failed', 'failed'], /*                 */ [UF, R, R, UF, R, UF, R, R, UF]],
  [['failed', 'upstream_failed'], /*        */ [UF, R, R, UF, R, UF, R, R, UF]],
  [['skipped', 'skipped'], /*               */ [SK, SK, R, SK, SK, R, SK, R, SK]],
  [['failed', 'running'], /*                */ [UF, W, W, W, R, UF, W, R, UF]],
  [['skipped', 'running'], /*               */ [SK, SK, W, W, W, W, SK, R, W]],
  [['failed', 'skipped'], /*                */ [UF, SK, R, UF, R, UF, SK, R, UF]],
  [['none', 'none'], /*                     */ [W, W, W, W, W, W, W, R, W]],
  [['queued', 'scheduled'], /*              */ [W, W, W, W, W, W, W, R, W]],
  [['up_for_retry', 'success'], /*          */ [W, SK, W, R, W, W, W, R, W]],
  [['up_for_retry', 'failed'], /*           */ [UF, W, W, W, R, UF, W, R, UF]],
  [['success', 'removed'], /*               */ [R, SK, R, R, SK, R, R, R, R]],
  [['removed'], /*                          */ [R, R, R, R, R, R, R, R, R]],
  [['success', 'failed', 'skipped'], /*     */ [UF, SK, R, R, R, UF, SK, R, UF]],
  [['skipped', 'upstream_failed'], /*       */ [UF, SK, R, UF, R, UF, SK, R, UF]],
];

const cases = TABLE.flatMap(([upstream, outcomes]) =>
  TRIGGER_RULES.map((rule, i) => ({
    rule,
    upstream: upstream.join(',') || '(none)',
    states: upstream,
    outcome: outcomes[i],
  })),
);

function combinations(states: readonly TaskState[], length: number): TaskState[][] {
  if (length === 0) return [[]];
  return combinations(states, length - 1).flatMap((rest) => states.map((state) => [state, ...rest]));
}

describe('evaluateTriggerRule', () => {
  it('has a column for every rule', () => {
    for (const [, outcomes] of TABLE) expect(outcomes).toHaveLength(TRIGGER_RULES.length);
  });

  it.each(cases)('$rule with upstream [$upstream] → $outcome', ({ rule, states, outcome }) => {
    expect(evaluateTriggerRule(rule, states)).toBe(outcome);
  });

  it.each([...TRIGGER_RULES])('%s always decides once every upstream is finished', (rule: TriggerRule) => {
    // Nothing can change a finished upstream's state on its own, so a rule still waiting here would deadlock the run.
    for (let length = 1; length <= 3; length++) {
      for (const states of combinations([...FINISHED_TASK_STATES], length)) {
        expect({ states, outcome: evaluateTriggerRule(rule, states) }).not.toEqual({ states, outcome: 'wait' });
      }
    }
  });
});

describe('trigger rules', () => {
  it('default to all_success', () => {
    expect(DEFAULT_TRIGGER_RULE).toBe('all_success');
  });

  it('recognise rule names', () => {
    expect(isTriggerRule('none_failed')).toBe(true);
    expect(isTriggerRule('none_failed_min_one_success')).toBe(true);
    expect(isTriggerRule('all_skipped')).toBe(false);
    expect(isTriggerRule(42)).toBe(false);
  });
});
