import { describe, expect, it } from '@jest/globals';
import { nextWebhookAttemptAt, shouldDisable, webhookBody, webhookFailureOutcome, type StoredWebhookDelivery } from './webhook-body.js';

const delivery = (over: Partial<StoredWebhookDelivery> = {}): StoredWebhookDelivery => ({
  id: '17',
  webhookId: 3,
  stream: 'ti:5',
  seq: 4,
  kind: 'task_instance_state',
  dagId: 'etl',
  runId: 'r1',
  payload: { taskId: 'load', mapIndex: -1, state: 'running', previousState: 'queued', tryNumber: 1, maxTries: 2, startDate: '2024-01-01T00:00:00Z', endDate: null, at: '2024-01-01T00:00:01Z' },
  redeliveryOf: null,
  ...over,
});

describe(webhookBody.name, () => {
  it('carries the stream, the sequence number and the event as subscriptions show it', () => {
    expect(JSON.parse(webhookBody(delivery()))).toEqual({
      deliveryId: '17',
      webhookId: 3,
      stream: 'ti:5',
      sequence: 4,
      kind: 'task_instance_state',
      dagId: 'etl',
      runId: 'r1',
      redelivery: false,
      data: {
        sequence: 4,
        dagId: 'etl',
        runId: 'r1',
        taskId: 'load',
        mapIndex: -1,
        state: 'running',
        previousState: 'queued',
        tryNumber: 1,
        maxTries: 2,
        startDate: '2024-01-01T00:00:00.000Z',
        endDate: null,
        at: '2024-01-01T00:00:01.000Z',
      },
    });
  });

  it('is the same bytes every time, and a redelivery keeps the first delivery id and the sequence number', () => {
    expect(webhookBody(delivery())).toBe(webhookBody(delivery()));
    const again = JSON.parse(webhookBody(delivery({ id: '99', redeliveryOf: '17' })));
    expect(again).toMatchObject({ deliveryId: '17', sequence: 4, redelivery: true });
  });

  it('writes the times of an SLA miss in ISO form', () => {
    const payload = { runId: 'r1', taskId: 'load', logicalDate: '2024-01-01T00:00:00+00:00', deadline: '2024-01-02T01:00:00+00:00', at: '2024-01-02T01:00:01.5+00:00' };
    expect(JSON.parse(webhookBody(delivery({ kind: 'sla_miss', stream: 'sla:etl', payload }))).data).toEqual({
      sequence: 4,
      dagId: 'etl',
      runId: 'r1',
      taskId: 'load',
      logicalDate: '2024-01-01T00:00:00.000Z',
      deadline: '2024-01-02T01:00:00.000Z',
      at: '2024-01-02T01:00:01.500Z',
    });
  });
});

describe(nextWebhookAttemptAt.name, () => {
  const now = new Date('2024-01-01T00:00:00Z');
  it('doubles from 5 s up to the cap', () => {
    const delays = [1, 2, 3, 4, 20, 200].map((n) => (nextWebhookAttemptAt(n, now).getTime() - now.getTime()) / 1000);
    expect(delays).toEqual([5, 10, 20, 40, 3600, 3600]);
    expect(nextWebhookAttemptAt(3, now, 12_000).getTime() - now.getTime()).toBe(12_000);
  });
});

describe(shouldDisable.name, () => {
  const now = new Date('2024-01-01T12:00:00Z');
  it('disables once the failures have lasted the threshold', () => {
    expect(shouldDisable(null, now, 60)).toBe(false);
    expect(shouldDisable(new Date('2024-01-01T11:59:01Z'), now, 60)).toBe(false);
    expect(shouldDisable(new Date('2024-01-01T11:59:00Z'), now, 60)).toBe(true);
  });
});

describe(webhookFailureOutcome.name, () => {
  it('fails a delivery for good on a 4xx the receiver means (400, 401, 404, 410, 422), so the stream goes on', () => {
    for (const status of [400, 401, 403, 404, 410, 413, 422, 499]) expect([status, webhookFailureOutcome(status)]).toEqual([status, 'rejected']);
  });

  it('retries 5xx, 408, 425, 429, redirects and attempts without an answer', () => {
    for (const status of [500, 502, 503, 504, 408, 425, 429, 301, 302, undefined]) expect([status, webhookFailureOutcome(status)]).toEqual([status, 'retry']);
  });
});
