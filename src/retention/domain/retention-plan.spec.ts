import { describe, expect, it } from '@jest/globals';
import type { RetentionConfig } from '../../config/config.js';
import { retentionPlan } from './retention-plan.js';

const off: RetentionConfig = { runsDays: 0, taskTriesDays: 0, taskLogsDays: 0, xcomDays: 0, datasetEventsDays: 0, auditDays: 0, eventsDays: 0, intervalSec: 3600, batchSize: 1000 };
const now = new Date('2024-03-31T12:00:00Z');

describe(retentionPlan.name, () => {
  it('does nothing when every retention is 0 (the default)', () => {
    expect(retentionPlan(off, now)).toEqual([]);
  });

  it('puts runs first with smaller batches, and computes each cutoff from now', () => {
    const plan = retentionPlan({ ...off, auditDays: 90, runsDays: 30, taskLogsDays: 7 }, now);
    expect(plan).toEqual([
      { kind: 'runs', cutoff: new Date('2024-03-01T12:00:00Z'), batchSize: 10 },
      { kind: 'task_logs', cutoff: new Date('2024-03-24T12:00:00Z'), batchSize: 1000 },
      { kind: 'audit', cutoff: new Date('2024-01-01T12:00:00Z'), batchSize: 1000 },
    ]);
    expect(retentionPlan({ ...off, runsDays: 1, batchSize: 50 }, now)[0]!.batchSize).toBe(1);
  });
});
