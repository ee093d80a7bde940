import { describe, expect, it } from '@jest/globals';
import { ALERT_KINDS } from './alert.js';
import { pagerDutySeverity } from './pagerduty-severity.js';

describe(pagerDutySeverity.name, () => {
  it('defaults by kind: a warning is a warning, a miss or a failed task an error, a failed run critical', () => {
    expect(ALERT_KINDS.map((k) => [k, pagerDutySeverity(undefined, k)])).toEqual([
      ['sla_miss', 'error'],
      ['sla_warning', 'warning'],
      ['task_failed', 'error'],
      ['run_failed', 'critical'],
    ]);
  });

  it('one level applies to every kind', () => {
    expect(ALERT_KINDS.map((k) => pagerDutySeverity('info', k))).toEqual(['info', 'info', 'info', 'info']);
  });

  it('a level by kind, with the default for the kinds left out', () => {
    const setting = { sla_warning: 'info', task_failed: 'critical' } as const;
    expect(ALERT_KINDS.map((k) => [k, pagerDutySeverity(setting, k)])).toEqual([
      ['sla_miss', 'error'],
      ['sla_warning', 'info'],
      ['task_failed', 'critical'],
      ['run_failed', 'critical'],
    ]);
  });
});
