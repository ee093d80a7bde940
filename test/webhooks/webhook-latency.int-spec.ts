import { describe, expect, it } from '@jest/globals';
import { startHttpServer } from '../../src/alerts/channels/alert-testing.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';

/**
 * Webhook deliveries go out when the outbox says events were written (NOTIFY), not at the next poll: with the
 * delivery loop running as in production (runScheduler) and its poll set to 10 minutes, a state change still reaches
 * the receiver. The event -> delivery latency (from the API call that changed the state to the receiver's request)
 * is printed with the default poll for comparison; times are not asserted.
 */
type Arrival = { at: number; stream: string; seq: number };

async function measure(pollMs: string, samples: number): Promise<number[]> {
  const arrivals: Arrival[] = [];
  const receiver = await startHttpServer((req, res) => {
    arrivals.push({ at: performance.now(), stream: String(req.headers['x-weft-stream']), seq: Number(req.headers['x-weft-sequence']) });
    res.writeHead(202).end();
  });
  let t: TestApp | null = null;
  try {
    t = await startTestApp({ WEFT_WEBHOOK_POLL_MS: pollMs }, { runScheduler: true });
    const api = new Api(t.app);
    await api.registerDag(dag('wh_latency', [{ taskId: 'only' }]));
    await api.ok('POST', '/api/v1/webhooks', { url: `${receiver.url}/latency`, eventKinds: ['dag_run_state'], dagIds: ['wh_latency'] });
    const latencies: number[] = [];
    for (let i = 0; i < samples; i++) {
      // Triggers at varied points of the poll cycle (right after a delivery the loop makes a second pass at once,
      // which would flatter polling): a pause to spread the samples, not a wait for a condition.
      await new Promise((r) => setTimeout(r, (i * 337) % 1000));
      const before = arrivals.length;
      const sent = performance.now();
      await api.trigger('wh_latency', { runId: `r${i}`, logicalDate: new Date(Date.UTC(2024, 0, 1 + i)).toISOString() });
      await waitFor(async () => arrivals.length > before, `the delivery of run r${i}'s state change (poll ${pollMs} ms)`, 20_000);
      latencies.push(arrivals[before]!.at - sent);
    }
    return latencies;
  } finally {
    await t?.close();
    await receiver.close();
  }
}

const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]!.toFixed(0)} ms, min ${s[0]!.toFixed(0)} ms, max ${s[s.length - 1]!.toFixed(0)} ms over ${s.length}`;
};

describe('webhook delivery latency', () => {

  it('delivers on the outbox NOTIFY, not at the next poll (poll 10 min)', async () => {
    const quiet = await measure('600000', 5);
    expect(quiet).toHaveLength(5);
    console.log(`webhook event -> delivery, WEFT_WEBHOOK_POLL_MS=600000: ${summary(quiet)}`);
  });

  it('prints the latency with the default poll (1 s)', async () => {
    const latencies = await measure('1000', 10);
    expect(latencies).toHaveLength(10);
    console.log(`webhook event -> delivery, WEFT_WEBHOOK_POLL_MS=1000: ${summary(latencies)}`);
  });
});
