import type { SkipDecision } from './task-graph.js';

/** What a branch or short-circuit task's success lets through: the direct downstream ids to follow, or why it failed. */
export type FollowOutcome = { follow: string[] } | { error: string };

/**
 * The decision a branch or short-circuit task makes by succeeding (Airflow's BranchPythonOperator and
 * ShortCircuitOperator). A branch follows `followTaskIds` (its completion), else its `return_value` XCom (an id, ids
 * separated by commas or spaces, or a list of ids); none at all follows nothing. Every id must be a direct downstream
 * task, or the branch fails. A short-circuit lets all its direct downstream through when its return value is truthy
 * (JSON's falsy values: false, null, 0, "", [], {}, and no return value at all, skip).
 */
export function followOf(
  taskId: string,
  kind: SkipDecision,
  downstream: readonly string[],
  completion: { followTaskIds?: readonly string[]; returnValue?: { value: unknown } },
): FollowOutcome {
  if (kind !== 'branch') return { follow: completion.returnValue && truthy(completion.returnValue.value) ? [...downstream] : [] };
  const chosen = completion.followTaskIds ?? (completion.returnValue ? idsOf(completion.returnValue.value) : []);
  if (chosen === null) {
    return { error: `branch '${taskId}' must choose task ids (followTaskIds, or a return_value that is an id or a list of ids)` };
  }
  return checkChoice(taskId, chosen, downstream);
}

/** Ids chosen by a built-in branch's rendered `choose`: separated by commas or whitespace. */
export function parseChoice(rendered: string): string[] {
  return rendered.split(/[\s,]+/).filter(Boolean);
}

export function checkChoice(taskId: string, chosen: readonly string[], downstream: readonly string[]): FollowOutcome {
  const unknown = chosen.filter((id) => !downstream.includes(id));
  if (unknown.length) {
    return {
      error:
        `branch '${taskId}' chose ${unknown.map((id) => `'${id}'`).join(', ')}, which ${unknown.length === 1 ? 'is' : 'are'} not a direct ` +
        `downstream task (its direct downstream tasks: ${downstream.length ? downstream.join(', ') : 'none'})`,
    };
  }
  return { follow: [...new Set(chosen)] };
}

function idsOf(value: unknown): string[] | null {
  if (value === null) return [];
  if (typeof value === 'string') return parseChoice(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return null;
}

function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}
