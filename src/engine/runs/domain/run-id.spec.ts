import { describe, expect, it } from '@jest/globals';
import { manualRunId, scheduledRunId } from './run-id.js';

describe('run ids', () => {
  it('uses Airflow’s form with a +00:00 offset', () => {
    expect(scheduledRunId(new Date('2024-01-15T06:00:00Z'))).toBe('scheduled__2024-01-15T06:00:00+00:00');
    expect(manualRunId(new Date('2024-01-15T06:00:00.123Z'))).toBe('manual__2024-01-15T06:00:00.123+00:00');
  });
});
