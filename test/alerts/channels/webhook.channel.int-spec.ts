import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sampleAlert, startHttpServer, unusedPort, type RecordedRequest } from '../../../src/alerts/channels/alert-testing.js';
import { signWebhookPayload, verifyWebhookSignature, WebhookChannel } from '../../../src/alerts/channels/webhook.channel.js';

const SECRET = 'whsec-test-4f9a';
const NOW = new Date('2024-01-16T01:00:07.000Z');
const NOW_SEC = String(NOW.getTime() / 1000);

const routes: Record<string, (res: ServerResponse) => void> = {
  '/hook': (res) => res.writeHead(204).end(),
  '/fail': (res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('database is down'),
  '/missing': (res) => res.writeHead(404).end('no such hook'),
  '/slow-down': (res) => res.writeHead(429).end(),
  '/moved': (res) => res.writeHead(301, { location: 'http://example.com/' }).end(),
  '/hang': () => undefined,
};

let server: Awaited<ReturnType<typeof startHttpServer>>;
beforeAll(async () => {
  server = await startHttpServer((req, res) => (routes[req.path.split('?')[0]!] ?? routes['/missing']!)(res));
});
afterAll(() => server.close());

const lastRequest = (): RecordedRequest => server.requests.at(-1)!;

describe(WebhookChannel.name, () => {
  const sut = new WebhookChannel({ timeoutMs: 2000, now: () => NOW });
  const message = sampleAlert();

  it('POSTs the message as JSON with the event headers and a signature receivers can verify', async () => {
    expect(await sut.send({ type: 'webhook', url: `${server.url}/hook`, secret: SECRET }, message)).toEqual({ ok: true });

    const req = lastRequest();
    expect(req.method).toBe('POST');
    expect(JSON.parse(req.body)).toEqual(message);
    expect(req.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'weft',
      'x-weft-event': 'sla_miss',
      'x-weft-delivery': message.deliveryId,
      'x-weft-timestamp': NOW_SEC,
      'x-weft-signature': expect.stringMatching(/^sha256=[0-9a-f]{64}$/),
    });
    const signature = req.headers['x-weft-signature'] as string;
    expect(signature).toBe(`sha256=${createHmac('sha256', SECRET).update(`${NOW_SEC}.${req.body}`).digest('hex')}`);
    expect(verifyWebhookSignature(SECRET, NOW_SEC, req.body, signature, 300, NOW)).toBe(true);
    expect(verifyWebhookSignature(SECRET, NOW_SEC, Buffer.from(req.body), signature, 300, NOW)).toBe(true);
  });

  it('signature verification fails for a tampered body, another secret, another timestamp or a stale one', async () => {
    await sut.send({ type: 'webhook', url: `${server.url}/hook`, secret: SECRET }, message);
    const { body, headers } = lastRequest();
    const signature = headers['x-weft-signature'] as string;

    expect(verifyWebhookSignature(SECRET, NOW_SEC, body.replace('"etl"', '"elt"'), signature, 300, NOW)).toBe(false);
    expect(verifyWebhookSignature(`${SECRET}x`, NOW_SEC, body, signature, 300, NOW)).toBe(false);
    expect(verifyWebhookSignature(SECRET, String(Number(NOW_SEC) + 1), body, signature, 300, NOW)).toBe(false);
    expect(verifyWebhookSignature(SECRET, NOW_SEC, body, signature, 300, new Date(NOW.getTime() + 301_000))).toBe(false);
    expect(verifyWebhookSignature(SECRET, NOW_SEC, body, signature, 300, new Date(NOW.getTime() + 299_000))).toBe(true);
    expect(verifyWebhookSignature(SECRET, NOW_SEC, body, undefined, 300, NOW)).toBe(false);
    expect(verifyWebhookSignature(SECRET, undefined, body, signature, 300, NOW)).toBe(false);
    expect(verifyWebhookSignature(SECRET, NOW_SEC, body, signature.toUpperCase(), 300, NOW)).toBe(false);
    expect(verifyWebhookSignature(SECRET, NOW_SEC, body, `${signature}é`, 300, NOW)).toBe(false);
  });

  it('sends no signature without a secret', async () => {
    expect(await sut.send({ type: 'webhook', url: `${server.url}/hook` }, message)).toEqual({ ok: true });
    expect(lastRequest().headers['x-weft-signature']).toBeUndefined();
  });

  it('retries on 5xx and 429, naming the status and the start of the body but not the path', async () => {
    expect(await sut.send({ type: 'webhook', url: `${server.url}/fail?token=abc`, secret: SECRET }, message)).toEqual({
      ok: false,
      error: `POST ${server.url}/… answered 500 Internal Server Error: database is down`,
      retryable: true,
      status: 500,
    });
    expect(await sut.send({ type: 'webhook', url: `${server.url}/slow-down` }, message)).toMatchObject({ ok: false, retryable: true });
  });

  it('does not retry other 4xx, nor redirects, which it does not follow', async () => {
    expect(await sut.send({ type: 'webhook', url: `${server.url}/missing` }, message)).toEqual({
      ok: false,
      error: `POST ${server.url}/… answered 404 Not Found: no such hook`,
      retryable: false,
      status: 404,
    });
    const before = server.requests.length;
    expect(await sut.send({ type: 'webhook', url: `${server.url}/moved` }, message)).toEqual({
      ok: false,
      error: `POST ${server.url}/… answered 301 Moved Permanently (redirects are not followed)`,
      retryable: false,
      status: 301,
    });
    expect(server.requests.length).toBe(before + 1);
  });

  it('retries when the receiver does not answer in time', async () => {
    const quick = new WebhookChannel({ timeoutMs: 150 });
    expect(await quick.send({ type: 'webhook', url: `${server.url}/hang`, secret: SECRET }, message)).toEqual({
      ok: false,
      error: `POST ${server.url}/… timed out after 150 ms`,
      retryable: true,
    });
  });

  it('retries when the connection is refused', async () => {
    const port = await unusedPort();
    const result = await sut.send({ type: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret: SECRET }, message);
    expect(result).toEqual({ ok: false, error: expect.stringContaining('ECONNREFUSED'), retryable: true });
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('sends credentials in the URL as Basic authentication, and never quotes them', async () => {
    expect(await sut.send({ type: 'webhook', url: `${server.url.replace('//', '//hook:p%40ss@')}/hook` }, message)).toEqual({ ok: true });
    expect(lastRequest().headers.authorization).toBe(`Basic ${Buffer.from('hook:p@ss').toString('base64')}`);
    const failed = await sut.send({ type: 'webhook', url: `${server.url.replace('//', '//hook:p%40ss@')}/missing` }, message);
    expect(failed).toMatchObject({ ok: false, error: `POST ${server.url}/… answered 404 Not Found: no such hook` });
  });

  it('fails without retry on a URL it cannot use', async () => {
    expect(await sut.send({ type: 'webhook', url: 'not a url' }, message)).toEqual({ ok: false, error: 'the callback URL is not a valid absolute URL', retryable: false });
    expect(await sut.send({ type: 'webhook', url: 'ftp://example.com/x' }, message)).toEqual({ ok: false, error: 'the callback URL must be http or https', retryable: false });
  });
});

describe('webhook signature snippet in docs/alerts.md', () => {
  // Runs the documented receiver code, so that the page cannot drift from what the channel sends.
  const doc = readFileSync(new URL('../../../docs/alerts.md', import.meta.url), 'utf8');
  const snippet = /<!-- pinned: webhook verification snippet[^>]*-->\n```js\n([\s\S]*?)```/.exec(doc)?.[1];

  it('verifies a real delivery and rejects a tampered one', async () => {
    expect(snippet).toBeDefined();
    const code = snippet!.replace(/^import .*\n/m, '').replace(/^export /m, '');
    type Verify = (secret: string, headers: Record<string, unknown>, rawBody: string | Buffer) => boolean;
    const verifyWeftSignature = new Function('createHmac', 'timingSafeEqual', `${code}\nreturn verifyWeftSignature;`)(createHmac, timingSafeEqual) as Verify;

    await new WebhookChannel().send({ type: 'webhook', url: `${server.url}/hook`, secret: SECRET }, sampleAlert());
    const { headers, body } = lastRequest();
    expect(verifyWeftSignature(SECRET, headers, Buffer.from(body))).toBe(true);
    expect(verifyWeftSignature(SECRET, headers, body.replace('sla_miss', 'run_failed'))).toBe(false);
    expect(verifyWeftSignature('other', headers, body)).toBe(false);
    // The documented helper and the exported one agree.
    const header = signWebhookPayload(SECRET, headers['x-weft-timestamp'] as string, body);
    expect(header).toBe(headers['x-weft-signature']);
  });
});
