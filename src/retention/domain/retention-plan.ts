import type { RetentionConfig } from '../../config/config.js';

export type RetentionKind = 'runs' | 'task_tries' | 'task_logs' | 'xcom' | 'dataset_events' | 'audit' | 'events' | 'webhook_deliveries';

export type RetentionStep = { kind: RetentionKind; cutoff: Date; batchSize: number };

const DAY_MS = 86_400_000;

/**
 * What one clean-up pass deletes: for each kind of history with a retention set (days > 0), everything older than
 * `now` minus that many days. Runs go first (each takes its task instances, tries, logs and XCom along), in
 * smaller batches, since one run can carry thousands of rows.
 */
export function retentionPlan(config: RetentionConfig, now: Date): RetentionStep[] {
  const kinds: [RetentionKind, number][] = [
    ['runs', config.runsDays],
    ['task_tries', config.taskTriesDays],
    ['task_logs', config.taskLogsDays],
    ['xcom', config.xcomDays],
    ['dataset_events', config.datasetEventsDays],
    ['audit', config.auditDays],
    ['events', config.eventsDays],
    // Delivered webhook deliveries carry copies of outbox events: kept as long as the events are.
    ['webhook_deliveries', config.eventsDays],
  ];
  return kinds
    .filter(([, days]) => days > 0)
    .map(([kind, days]) => ({
      kind,
      cutoff: new Date(now.getTime() - days * DAY_MS),
      batchSize: kind === 'runs' ? Math.max(1, Math.floor(config.batchSize / 100)) : config.batchSize,
    }));
}
