import type { TriggerRule } from '../../../dags/domain/trigger-rule-names.js';
import type { TaskState } from './task-state.js';

/**
 * ready: the task may be scheduled now. wait: not yet decidable. upstream_failed / skipped: the rule can no longer
 * be met, and the task takes that state at once.
 */
export type TriggerRuleOutcome = 'ready' | 'wait' | 'upstream_failed' | 'skipped';

interface UpstreamCounts {
  total: number;
  done: number;
  success: number;
  skipped: number;
  failed: number;
}

/** `failed` counts failed and upstream_failed together: no rule tells them apart. */
function countUpstream(upstreamStates: readonly TaskState[]): UpstreamCounts {
  const counts: UpstreamCounts = { total: 0, done: 0, success: 0, skipped: 0, failed: 0 };
  for (const state of upstreamStates) {
    // A removed upstream is no longer part of the DAG; Airflow never sees it as an upstream at all.
    if (state === 'removed') continue;
    counts.total++;
    switch (state) {
      case 'success':
        counts.success++;
        counts.done++;
        break;
      case 'skipped':
        counts.skipped++;
        counts.done++;
        break;
      case 'failed':
      case 'upstream_failed':
        counts.failed++;
        counts.done++;
        break;
      case 'none':
      case 'scheduled':
      case 'queued':
      case 'running':
      case 'up_for_retry':
        break;
    }
  }
  return counts;
}

/**
 * Airflow 2.x TriggerRuleDep (direct upstreams, flag_upstream_failed on), for the rules Weft supports.
 * up_for_retry is unfinished, so it only ever makes a rule wait. A task with no upstream (or only removed ones)
 * is ready, as is any task whose rule is `always`.
 */
export function evaluateTriggerRule(rule: TriggerRule, upstreamStates: readonly TaskState[]): TriggerRuleOutcome {
  const { total, done, success, skipped, failed } = countUpstream(upstreamStates);
  if (total === 0) return 'ready';
  const allDone = done === total;
  switch (rule) {
    case 'all_success':
      if (failed > 0) return 'upstream_failed';
      if (skipped > 0) return 'skipped';
      return success === total ? 'ready' : 'wait';
    case 'all_failed':
      if (success > 0 || skipped > 0) return 'skipped';
      return failed === total ? 'ready' : 'wait';
    case 'all_done':
      return allDone ? 'ready' : 'wait';
    case 'one_success':
      if (success > 0) return 'ready';
      if (!allDone) return 'wait';
      return skipped === total ? 'skipped' : 'upstream_failed';
    case 'one_failed':
      if (failed > 0) return 'ready';
      return allDone ? 'skipped' : 'wait';
    case 'none_failed':
      if (failed > 0) return 'upstream_failed';
      return success + skipped === total ? 'ready' : 'wait';
    case 'none_skipped':
      if (skipped > 0) return 'skipped';
      return allDone ? 'ready' : 'wait';
    case 'always':
      return 'ready';
    case 'none_failed_min_one_success':
      // The join of branches (Airflow 2.x): what was not chosen is skipped, what was chosen must not fail.
      if (failed > 0) return 'upstream_failed';
      if (!allDone) return 'wait';
      return skipped === total ? 'skipped' : 'ready';
  }
}
