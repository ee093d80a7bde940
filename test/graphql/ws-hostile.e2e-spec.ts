import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { ApiKeysService } from '../../src/auth/api-keys.service.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * Hostile clients of the graphql-ws endpoint, spoken to as raw WebSocket frames (docs/graphql.md#subscriptions-live-state-changes):
 * frames over the limit, upgrades to other paths, a revoked key on an idle connection, too many subscriptions on one
 * connection, and a subscription "from now on" while older events still wait to be numbered.
 */
const ADMIN = 'weft_test_admin_key_ws_hostile_0123456789ab';
const BODY_LIMIT = 64 * 1024;
const MAX_SUBS = 3;
let app: TestApp;
let base: string;
let port: number;

beforeAll(async () => {
  app = await startTestApp({ WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: ADMIN, WEFT_BODY_LIMIT_BYTES: String(BODY_LIMIT), WEFT_GRAPHQL_WS_MAX_SUBSCRIPTIONS: String(MAX_SUBS) });
  await app.app.get(ApiKeysService).ensureAdminKey(ADMIN, '/tmp');
  base = await app.listen();
  port = Number(new URL(base).port);
  await admin().registerDag(dag('ws_hostile', [{ taskId: 'a' }]));
});

afterAll(async () => {
  await app?.app.close();
  await app?.db.drop();
});

const admin = () => new Api(app.app, { authorization: `Bearer ${ADMIN}` });

type Frame = { id?: string; type: string; payload?: unknown };

/** A raw graphql-transport-ws connection: what it received, and how it closed. */
async function rawWs(): Promise<{ ws: WebSocket; frames: Frame[]; closed: Promise<{ code: number; reason: string }>; send(f: unknown): void; wait(pred: (f: Frame) => boolean, ms?: number): Promise<Frame> }> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  const frames: Frame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return {
    ws,
    frames,
    closed,
    send: (f) => ws.send(typeof f === 'string' ? f : JSON.stringify(f)),
    async wait(pred, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const f = frames.find(pred);
        if (f) return f;
        if (Date.now() > deadline) throw new Error(`timed out; received ${JSON.stringify(frames)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

async function connected(key: string) {
  const c = await rawWs();
  c.send({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } });
  await c.wait((f) => f.type === 'connection_ack');
  return c;
}

const RUNS = (id: string, dagId = 'ws_hostile') => ({ id, type: 'subscribe', payload: { query: `subscription { dagRunStateChanged(dagId: "${dagId}") { sequence runId state } }` } });

/** Sends raw bytes and returns what the server answered before closing (or what it sent within `ms`). */
function rawHttp(request: string, ms = 3_000): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ data, closed: false });
    }, ms);
    s.on('data', (d) => (data += d));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ data, closed: true });
    });
    s.write(request);
  });
}

const UPGRADE = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n`;

describe('graphql-ws against hostile clients', () => {
  it('closes a connection whose frame is over the body limit with 1009, before connection_init, and keeps serving', async () => {
    const c = await rawWs();
    c.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(BODY_LIMIT + 1) } }));
    expect((await c.closed).code).toBe(1009);
    // A frame within the limit is read as usual.
    const ok = await connected(ADMIN);
    ok.ws.close();
  });

  it('answers 404 to a WebSocket upgrade on any other path and closes the socket (it used to stay open forever)', async () => {
    for (const path of ['/other', '/graphql/', '/api/v1/dags']) {
      const res = await rawHttp(UPGRADE(path));
      expect(res.closed).toBe(true);
      expect(res.data).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
      expect(res.data).toContain('GraphQL subscriptions are served on /graphql');
    }
    const upgraded = await rawHttp(UPGRADE('/graphql?x=1'), 500);
    expect(upgraded.data).toMatch(/^HTTP\/1\.1 101 /);
  });

  it('closes an idle connection with 4403 once its key is revoked, ending its subscriptions', async () => {
    const created = await admin().call('POST', '/api/v1/apiKeys', { name: 'ws revoked viewer', role: 'viewer' });
    const c = await connected(created.body.key);
    c.send(RUNS('idle'));
    await new Promise((r) => setTimeout(r, 300));
    expect((await admin().call('DELETE', `/api/v1/apiKeys/${created.body.id}`)).status).toBe(200);
    const started = Date.now();
    const closed = await c.closed;
    expect(closed).toEqual({ code: 4403, reason: 'Forbidden: the API key was revoked' });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(c.frames.filter((f) => f.type === 'next')).toEqual([]);
  }, 15_000);

  it(`refuses subscription number ${MAX_SUBS + 1} on one connection with TOO_MANY_SUBSCRIPTIONS, and takes one again after a complete`, async () => {
    const c = await connected(ADMIN);
    for (let i = 1; i <= MAX_SUBS; i++) c.send(RUNS(`s${i}`));
    c.send(RUNS('over'));
    const refused = await c.wait((f) => f.id === 'over' && f.type === 'error');
    expect(refused.payload).toEqual([expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', statusCode: 400 } })]);
    expect((refused.payload as Array<{ message: string }>)[0]!.message).toContain('WEFT_GRAPHQL_WS_MAX_SUBSCRIPTIONS');
    // The others still run: complete one, and a new one is taken (it sees the next run).
    c.send({ id: 's1', type: 'complete' });
    await new Promise((r) => setTimeout(r, 200));
    c.send(RUNS('again'));
    await new Promise((r) => setTimeout(r, 500));
    expect(c.frames.filter((f) => f.id === 'again')).toEqual([]);
    await admin().trigger('ws_hostile', { runId: 'after_limit' });
    await c.wait((f) => f.id === 'again' && f.type === 'next');
    await c.wait((f) => f.id === 's2' && f.type === 'next');
    c.ws.close();
  }, 15_000);

  it('sends a subscription without afterSequence no event of a change committed before it, even while older events wait to be numbered', async () => {
    await admin().registerDag(dag('ws_from_now', [{ taskId: 'a' }]));
    // No subscriber anywhere: the run's events wait in the outbox, not yet numbered.
    await admin().trigger('ws_from_now', { runId: 'before' });
    const c = await connected(ADMIN);
    for (let i = 1; i <= MAX_SUBS; i++) c.send(RUNS(`n${i}`, 'ws_from_now'));
    await new Promise((r) => setTimeout(r, 1_500));
    expect(c.frames.filter((f) => f.type !== 'connection_ack')).toEqual([]);
    c.ws.close();
  });
});
