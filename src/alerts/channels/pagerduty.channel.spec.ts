import { describe, expect, it } from '@jest/globals';
import { sampleAlert } from './alert-testing.js';
import { pagerDutyDedupKey, pagerDutyEvent } from './pagerduty.channel.js';

const callback = { type: 'pagerduty' as const, routingKey: 'rk', severity: 'warning' as const };

describe(pagerDutyEvent.name, () => {
  it('triggers with the incident as dedup_key and the alert in the payload', () => {
    const event = pagerDutyEvent(callback, sampleAlert({ incidentKey: 'sla_miss:ti:7' }));
    expect(event).toEqual({
      routing_key: 'rk',
      event_action: 'trigger',
      dedup_key: 'weft:sla_miss:ti:7',
      client: 'Weft',
      payload: {
        summary: 'SLA missed: etl.load (2024-01-15T00:00:00.000Z): load did not finish within 1h after the data interval ended',
        source: 'weft',
        severity: 'warning',
        timestamp: '2024-01-16T01:00:05.000Z',
        component: 'load',
        group: 'etl',
        class: 'sla_miss',
        custom_details: {
          dagId: 'etl',
          runId: 'scheduled__2024-01-15T00:00:00+00:00',
          taskId: 'load',
          logicalDate: '2024-01-15T00:00:00.000Z',
          slaSec: 3600,
          expectedBy: '2024-01-16T01:00:00.000Z',
          state: 'running',
          deliveryId: '7f0c2a4e-5d1b-4c1e-9a57-2f4b8e0c1d3a',
        },
      },
    });
  });

  it('resolves with nothing but the key and the routing key', () => {
    expect(pagerDutyEvent(callback, sampleAlert({ incidentKey: 'sla_miss:ti:7', action: 'resolve' }))).toEqual({ routing_key: 'rk', event_action: 'resolve', dedup_key: 'weft:sla_miss:ti:7' });
  });

  it('keeps within PagerDuty’s limits', () => {
    const long = sampleAlert({ incidentKey: 'x'.repeat(400), summary: 'y'.repeat(2000) });
    expect(pagerDutyDedupKey(long)).toHaveLength(255);
    const event = pagerDutyEvent(callback, long);
    expect(event.event_action === 'trigger' && event.payload.summary.length).toBe(1024);
  });
});
