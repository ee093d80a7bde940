import type { PagerDutySeverity, PagerDutySeveritySetting } from '../../dags/domain/dag-document.schema.js';
import type { AlertKind } from './alert.js';

/**
 * Severity by kind when a PagerDuty callback does not set one: an early warning is a warning (PagerDuty's low
 * urgency under severity-based urgency), a missed SLA or a failed task an error, a failed run critical.
 */
export const DEFAULT_PAGERDUTY_SEVERITY: Record<AlertKind, PagerDutySeverity> = {
  sla_warning: 'warning',
  sla_miss: 'error',
  task_failed: 'error',
  run_failed: 'critical',
};

/** The Events API v2 severity of an alert of `kind`: the callback's one level, its level for that kind, or the default. */
export function pagerDutySeverity(setting: PagerDutySeveritySetting | undefined, kind: AlertKind): PagerDutySeverity {
  if (typeof setting === 'string') return setting;
  return setting?.[kind] ?? DEFAULT_PAGERDUTY_SEVERITY[kind];
}
