import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sampleAlert, startHttpServer } from '../../../src/alerts/channels/alert-testing.js';
import { SlackChannel, slackMessage } from '../../../src/alerts/channels/slack.channel.js';

describe(slackMessage.name, () => {
  it('has a text fallback and blocks: header, summary, fields, details, context', () => {
    const message = sampleAlert();
    expect(slackMessage(message)).toEqual({
      text: 'SLA missed: etl.load (2024-01-15T00:00:00.000Z): load did not finish within 1h after the data interval ended',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'SLA missed: etl.load (2024-01-15T00:00:00.000Z)' } },
        { type: 'section', text: { type: 'mrkdwn', text: 'load did not finish within 1h after the data interval ended' } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*DAG*\netl' },
            { type: 'mrkdwn', text: '*Run*\nscheduled__2024-01-15T00:00:00+00:00' },
            { type: 'mrkdwn', text: '*Task*\nload' },
            { type: 'mrkdwn', text: '*Logical date*\n2024-01-15T00:00:00.000Z' },
            { type: 'mrkdwn', text: '*Occurred at*\n2024-01-16T01:00:05.000Z' },
          ],
        },
        { type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${JSON.stringify(message.details, null, 2)}\`\`\`` } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `Weft · sla_miss · delivery ${message.deliveryId}` }] },
      ],
    });
  });

  it('leaves out the task for a run alert, and empty summary and details', () => {
    const { text, blocks } = slackMessage(sampleAlert({ kind: 'run_failed', taskId: undefined, summary: '', details: {} }));
    expect(text).toBe('Run failed: etl (2024-01-15T00:00:00.000Z)');
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect(JSON.stringify(blocks)).not.toContain('*Task*');
  });

  it("escapes Slack's control characters and keeps within Slack's length limits", () => {
    const { text, blocks } = slackMessage(sampleAlert({ summary: `<!channel> a & b <script>${'x'.repeat(4000)}` }));
    expect(text.startsWith('SLA missed: etl.load (2024-01-15T00:00:00.000Z): &lt;!channel&gt; a &amp; b &lt;script&gt;xxx')).toBe(true);
    const summary = blocks[1] as { text: { text: string } };
    expect(summary.text.text).toHaveLength(3000);
    expect(summary.text.text.endsWith('x…')).toBe(true);
    expect(JSON.stringify(blocks)).not.toMatch(/<!channel>|<script>/);
  });
});

describe(SlackChannel.name, () => {
  let slack: Awaited<ReturnType<typeof startHttpServer>>;
  const hookPath = '/services/T000/B000/XXXXsecretXXXX';
  beforeAll(async () => {
    slack = await startHttpServer((req, res) => {
      if (req.path !== hookPath) res.writeHead(404, { 'content-type': 'text/plain' }).end('no_service');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  afterAll(() => slack.close());
  const sut = new SlackChannel({ timeoutMs: 2000 });

  it('POSTs the Slack message as JSON to the incoming webhook, which answers 200 ok', async () => {
    const message = sampleAlert();
    expect(await sut.send({ type: 'slack', webhookUrl: `${slack.url}${hookPath}` }, message)).toEqual({ ok: true });
    const req = slack.requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual(slackMessage(message));
  });

  it("fails without retry on Slack's 404, without the secret path of the webhook URL", async () => {
    const result = await sut.send({ type: 'slack', webhookUrl: `${slack.url}/services/T000/B000/revoked` }, sampleAlert());
    expect(result).toEqual({ ok: false, error: `POST ${slack.url}/… answered 404 Not Found: no_service`, retryable: false, status: 404 });
  });
});
