import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '../support/wait.js';
import { testContext } from '../../src/worker/executors/executor-testing.js';
import { HttpExecutor } from '../../src/worker/executors/http.executor.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

const routes: Record<string, Handler> = {
  '/json': (_req, _body, res) => res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end('{"ok": true, "n": [1, 2]}'),
  '/text': (_req, _body, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello'),
  '/empty': (_req, _body, res) => res.writeHead(204).end(),
  '/missing': (_req, _body, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('no such thing here'),
  '/unavailable': (_req, _body, res) => res.writeHead(503).end('try later'),
  '/error-page': (_req, _body, res) => res.writeHead(500, { 'content-type': 'text/html' }).end(`<html>\n  <p>${'oops '.repeat(1000)}</p>\n</html>`),
  '/big': (_req, _body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: 'x'.repeat(5000) })),
  '/echo': (req, body, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ method: req.method, contentType: req.headers['content-type'] ?? null, custom: req.headers['x-custom'] ?? null, authorization: req.headers.authorization, body }),
    ),
  '/slow': (req) => {
    slowRequests += 1; // never answered: the client has to give up
    req.socket.once('close', () => (slowHangUps += 1));
  },
};

let server: Server;
let base: string;
let slowRequests = 0;
/** Connections of /slow the client closed: it gave up (the server never does). */
let slowHangUps = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => (routes[new URL(req.url!, 'http://x').pathname] ?? ((_q, _b, r) => r.writeHead(500).end()))(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe(HttpExecutor.name, () => {
  const sut = new HttpExecutor({ timeoutMs: 5000 });

  it('succeeds on 2xx with the parsed JSON body as return_value and logs the exchange', async () => {
    const { ctx, stdout } = testContext();
    expect(await sut.execute({ request: { method: 'GET', url: `${base}/json` } }, ctx)).toEqual({
      status: 'success',
      xcom: { return_value: { ok: true, n: [1, 2] } },
    });
    expect(stdout()).toEqual([`→ GET ${base}/json`, expect.stringMatching(/^← 200 OK \(\d+ ms, 25 bytes\)$/)]);
  });

  it('pushes a body that is not JSON as text, and no XCom for an empty body', async () => {
    const { ctx } = testContext();
    expect(await sut.execute({ request: { method: 'GET', url: `${base}/text` } }, ctx)).toEqual({ status: 'success', xcom: { return_value: 'hello' } });
    expect(await sut.execute({ request: { method: 'DELETE', url: `${base}/empty` } }, ctx)).toEqual({ status: 'success' });
  });

  it('sends a non-string body as JSON and a string body as it is', async () => {
    const { ctx } = testContext();
    const json = await sut.execute({ request: { method: 'post', url: `${base}/echo`, headers: { 'X-Custom': 'yes' }, body: { date: '2024-01-15' } } }, ctx);
    expect(json.xcom).toEqual({ return_value: { method: 'POST', contentType: 'application/json', custom: 'yes', body: '{"date":"2024-01-15"}' } });
    const text = await sut.execute({ request: { method: 'PUT', url: `${base}/echo`, headers: { 'content-type': 'text/csv' }, body: 'a,b' } }, ctx);
    expect(text.xcom).toEqual({ return_value: { method: 'PUT', contentType: 'text/csv', custom: null, body: 'a,b' } });
  });

  it('fails, not retryable, on 404, naming the status and the start of the body', async () => {
    const { ctx } = testContext();
    expect(await sut.execute({ request: { method: 'GET', url: `${base}/missing` } }, ctx)).toEqual({
      status: 'failed',
      error: `GET ${base}/missing answered 404 Not Found (expected 2xx): no such thing here`,
      retryable: false,
    });
  });

  it('fails, retryable, on 503', async () => {
    const { ctx } = testContext();
    expect(await sut.execute({ request: { method: 'GET', url: `${base}/unavailable` } }, ctx)).toEqual({
      status: 'failed',
      error: `GET ${base}/unavailable answered 503 Service Unavailable (expected 2xx): try later`,
      retryable: true,
    });
  });

  it('quotes only the start of a long error body', async () => {
    const { ctx } = testContext();
    const result = await sut.execute({ request: { method: 'GET', url: `${base}/error-page` } }, ctx);
    expect(result.error).toMatch(new RegExp(`^GET ${base}/error-page answered 500 Internal Server Error \\(expected 2xx\\): <html> <p>[ops ]+…$`));
    expect(result.error!.length).toBeLessThan(600);
    expect(result.retryable).toBe(true);
  });

  it('uses expectStatus instead of 2xx when given', async () => {
    const { ctx } = testContext();
    expect(await sut.execute({ request: { method: 'GET', url: `${base}/missing`, expectStatus: [404] } }, ctx)).toEqual({
      status: 'success',
      xcom: { return_value: 'no such thing here' },
    });
    expect(await sut.execute({ request: { method: 'GET', url: `${base}/text`, expectStatus: [201, 202] } }, ctx)).toEqual({
      status: 'failed',
      error: `GET ${base}/text answered 200 OK (expected 201, 202): hello`,
      retryable: false,
    });
  });

  it('fails, not retryable, when the body is over the XCom limit', async () => {
    const { ctx } = testContext({ limits: { maxXcomBytes: 1000 } });
    const result = await sut.execute({ request: { method: 'GET', url: `${base}/big` } }, ctx);
    expect(result).toEqual({ status: 'failed', error: expect.stringContaining('over the XCom limit of 1000 bytes'), retryable: false });
  });

  it('stops the request when the signal aborts', async () => {
    const { ctx, controller } = testContext();
    const before = slowRequests;
    const hungUp = slowHangUps;
    const running = sut.execute({ request: { method: 'GET', url: `${base}/slow` } }, ctx);
    await waitFor(async () => slowRequests > before, 'the request to arrive');
    controller.abort('lease_lost');
    expect(await running).toEqual({ status: 'failed', error: 'cancelled: lease_lost', retryable: true });
    // Stopped, not abandoned: the connection is closed (the server never answers /slow), rather than a timing bound.
    await waitFor(async () => slowHangUps > hungUp, 'the aborted request to close its connection');
  });

  it('fails, retryable, when the request takes longer than the timeout', async () => {
    const { ctx } = testContext();
    const hungUp = slowHangUps;
    // /slow never answers: only the executor's own 200 ms timeout can end this, and it closes the connection.
    expect(await new HttpExecutor({ timeoutMs: 200 }).execute({ request: { method: 'GET', url: `${base}/slow` } }, ctx)).toEqual({
      status: 'failed',
      error: `GET ${base}/slow timed out after 200 ms`,
      retryable: true,
    });
    await waitFor(async () => slowHangUps > hungUp, 'the timed-out request to close its connection');
  });

  it('fails, retryable, when the server cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const { ctx } = testContext();
    expect(await sut.execute({ request: { method: 'GET', url: `http://127.0.0.1:${port}/` } }, ctx)).toEqual({
      status: 'failed',
      error: expect.stringMatching(new RegExp(`^GET http://127\\.0\\.0\\.1:${port}/ failed: .*ECONNREFUSED`)),
      retryable: true,
    });
  });

  it('sends credentials in the URL as Basic authentication', async () => {
    const { ctx } = testContext();
    const result = await sut.execute({ request: { method: 'GET', url: `${base.replace('//', '//ann:p%40ss@')}/echo` } }, ctx);
    expect(result.xcom).toMatchObject({ return_value: { authorization: `Basic ${Buffer.from('ann:p@ss').toString('base64')}` } });
  });

  it('keeps credentials and query strings out of logs and errors', async () => {
    const { ctx, logged } = testContext();
    const url = `${base.replace('//', '//user:pa55word@')}/missing?token=s3cret`;
    const result = await sut.execute({ request: { method: 'GET', url } }, ctx);
    expect(result.error).toContain(`GET ${base}/missing?… answered 404`);
    expect(JSON.stringify([result, logged])).not.toMatch(/pa55word|s3cret/);
  });

  it.each([
    [{ method: 'GET', url: `ftp://example.com/x` }, 'request.url must be an http or https URL'],
    [{ method: 'GET', url: 'not a url' }, 'request.url must be an absolute URL'],
    [{ method: 'GET', url: 'http://example.com/', body: { a: 1 } }, 'a GET request cannot have a body'],
  ])('refuses an invalid request without sending it: %p', async (request, message) => {
    const { ctx } = testContext();
    expect(await sut.execute({ request }, ctx)).toEqual({ status: 'failed', error: `invalid http task: ${message}`, retryable: false });
  });
});
