import { describe, expect, it } from '@jest/globals';
import { Api, dag } from '../support/api.js';
import { useTestApp } from '../support/app.js';

/** WEFT_SCHEDULER_RUNS_PER_DAG_PER_TICK bounds what one tick creates for a DAG; the rest waits for later ticks. */
const ctx = useTestApp({ WEFT_SCHEDULER_RUNS_PER_DAG_PER_TICK: '10' });
const api = new Api(() => ctx.t.app);

async function runCount(dagId: string): Promise<number> {
  return (await api.ok('GET', `/api/v1/dags/${dagId}/dagRuns?limit=1`)).totalEntries;
}

describe('WEFT_SCHEDULER_RUNS_PER_DAG_PER_TICK', () => {
  it('limits the runs one tick creates for a DAG catching up, and later ticks go on where it stopped', async () => {
    // 200 hourly intervals are due; maxActiveRuns keeps starting them out of the picture.
    await api.registerDag(dag('catch_up', [{ taskId: 'a' }], { schedule: '@hourly', startDate: '2024-01-01T00:00:00Z', maxActiveRuns: 1 }));
    const now = new Date('2024-01-09T08:30:00Z');
    expect((await api.tick(now)).created).toBe(10);
    expect(await runCount('catch_up')).toBe(10);
    expect((await api.tick(now)).created).toBe(10);
    expect(await runCount('catch_up')).toBe(20);
    let ticks = 2;
    while ((await api.tick(now)).created > 0) ticks++;
    expect(ticks).toBe(20);
    expect(await runCount('catch_up')).toBe(200);
  });
});
