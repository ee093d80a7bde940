/** The trigger rules a task of a DAG document may name (their evaluation is the engine's: engine/runs/domain/trigger-rules.ts). */
export const TRIGGER_RULES = [
  'all_success',
  'all_failed',
  'all_done',
  'one_success',
  'one_failed',
  'none_failed',
  'none_skipped',
  'always',
  'none_failed_min_one_success',
] as const;

export type TriggerRule = (typeof TRIGGER_RULES)[number];

export const DEFAULT_TRIGGER_RULE: TriggerRule = 'all_success';

export function isTriggerRule(value: unknown): value is TriggerRule {
  return typeof value === 'string' && (TRIGGER_RULES as readonly string[]).includes(value);
}
