import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sampleAlert, startHttpServer, startSmtpServer } from '../../../src/alerts/channels/alert-testing.js';
import { createAlertDelivery, SMTP_NOT_CONFIGURED } from '../../../src/alerts/channels/deliver.js';
import { verifyWebhookSignature } from '../../../src/alerts/channels/webhook.channel.js';

describe(createAlertDelivery.name, () => {
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  beforeAll(async () => {
    http = await startHttpServer((_req, res) => res.writeHead(200).end('ok'));
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    await http.close();
    await smtp.close();
  });

  it('picks the channel by callback type', async () => {
    const now = new Date('2024-01-16T01:00:07.000Z');
    const sut = createAlertDelivery({ smtp: { host: '127.0.0.1', port: smtp.port, secure: false, from: 'weft@example.com' }, httpTimeoutMs: 2000, now: () => now });
    const message = sampleAlert();

    expect(await sut.deliver({ type: 'webhook', url: `${http.url}/hook`, secret: 's' }, message)).toEqual({ ok: true });
    const hook = http.requests.at(-1)!;
    expect(hook.path).toBe('/hook');
    expect(verifyWebhookSignature('s', hook.headers['x-weft-timestamp'] as string, hook.body, hook.headers['x-weft-signature'] as string, 300, now)).toBe(true);

    expect(await sut.deliver({ type: 'slack', webhookUrl: `${http.url}/services/T/B/X` }, message)).toEqual({ ok: true });
    expect(JSON.parse(http.requests.at(-1)!.body)).toMatchObject({ text: expect.stringContaining('SLA missed'), blocks: expect.any(Array) });

    expect(await sut.deliver({ type: 'email', to: ['oncall@example.com'] }, message)).toEqual({ ok: true });
    expect(smtp.mails.at(-1)!.envelope.to).toEqual(['oncall@example.com']);

    await sut.close();
    expect(await sut.deliver({ type: 'webhook', url: `${http.url}/hook` }, message)).toEqual({ ok: false, error: 'alert delivery is shutting down', retryable: true });
  });

  it('fails email callbacks without retry when SMTP is not configured, and still delivers the others', async () => {
    const sut = createAlertDelivery();
    expect(await sut.deliver({ type: 'email', to: ['oncall@example.com'] }, sampleAlert())).toEqual({ ok: false, error: SMTP_NOT_CONFIGURED, retryable: false });
    expect(SMTP_NOT_CONFIGURED).toBe('SMTP is not configured (WEFT_SMTP_HOST)');
    expect(await sut.deliver({ type: 'webhook', url: `${http.url}/hook` }, sampleAlert())).toEqual({ ok: true });
    await sut.close();
  });
});
