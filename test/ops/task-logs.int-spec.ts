import { describe, expect, it } from '@jest/globals';
import { Api, dag } from '../support/api.js';
import { useTestApp } from '../support/app.js';
import { sample } from '../support/metrics.js';

// A 1000-byte cap: measured after every 100 bytes appended, trimmed to 900 bytes when over.
const h = useTestApp({ WEFT_TASK_LOG_MAX_BYTES_PER_TRY: '1000' });
const api = new Api(() => h.t.app);

describe('task log size cap per try', () => {
  it('drops the oldest lines and leaves one marker in their place, stating the totals dropped', async () => {
    await api.registerDag(dag('chatty', [{ taskId: 'talk' }]));
    const run = await api.trigger('chatty');
    const [lease] = await api.lease('w', { queues: ['chatty'] });
    // 40 lines of 50 bytes (2000 bytes), in 4 requests.
    const line = (i: number) => `line ${String(i).padStart(3, '0')} `.padEnd(50, 'x');
    for (let batch = 0; batch < 4; batch++) {
      const lines = Array.from({ length: 10 }, (_, i) => line(batch * 10 + i));
      const res = await h.t.app.inject({ method: 'POST', url: `/api/v1/leases/${lease.leaseId}/logs`, payload: { lines } });
      expect(res.statusCode).toBe(204);
    }
    expect((await api.complete(lease.leaseId, { status: 'success' })).status).toBe(200);

    const { items } = await api.ok('GET', `/api/v1/dags/chatty/dagRuns/${encodeURIComponent(run.runId)}/taskInstances/talk/tries/1/logs`);
    const [marker, ...kept] = items as { line: string; stream: string }[];
    expect(marker!.stream).toBe('weft');
    const m = marker!.line.match(/^\[weft\] (\d+) earlier line\(s\), (\d+) bytes, dropped/);
    expect(m).not.toBeNull();
    const dropped = Number(m![1]);
    expect(Number(m![2])).toBe(dropped * 50);
    // Nothing lost silently: dropped + kept = all, the kept ones are the newest, in order, within the cap.
    expect(dropped + kept.length).toBe(40);
    expect(kept.map((k) => k.line)).toEqual(Array.from({ length: kept.length }, (_, i) => line(40 - kept.length + i)));
    expect(kept.length * 50).toBeLessThanOrEqual(1000);
    expect(kept.length * 50).toBeGreaterThanOrEqual(900 - 50);

    const metrics = (await h.t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(sample(metrics, 'weft_task_log_lines_dropped_total')).toBe(dropped);
  });
});
