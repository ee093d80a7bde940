import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGoChainWorker, buildTsClient, missingClientToolchains, chainWorkerCommand, clientWorkerEnv } from '../support/clients.js';
import { waitFor } from '../support/wait.js';

/**
 * The worker helpers of the generated clients (TypeScript, Python, Go: their example workers, run as real processes
 * as in test/e2e/clients.e2e-spec.ts) fence themselves as the built-in worker does: once no heartbeat has been
 * accepted for as long as the lease lives (measured on the server's clock: leaseExpiresAt minus the Date header),
 * they stop the handler a second before the lease would end, stop heartbeating and report the attempt
 * `cancelled: lease_expired` (retryable), so that it cannot run beside its retry.
 *
 * Each helper talks to a small fake API in this process, which leases one task that hangs until it is stopped, accepts
 * the first heartbeats (each extends the lease by LEASE_MS), then answers 503 to every later one (an outage, a
 * partition), and refuses the first completions for a while (the report itself meets the outage).
 */
const LANGS = ['ts', 'py', 'go'] as const;
type Lang = (typeof LANGS)[number];
/** How long the lease, and each accepted heartbeat, says the lease lives. */
const LEASE_MS = 5000;
/** Heartbeats are accepted this long after the lease (the ones at ~1, 2 and 3 s), then answered 503. */
const HEARTBEATS_ACCEPTED_MS = 3500;
/** The first completions are answered 503 this long: the heartbeat, stopped at the fence, must not come back meanwhile. */
const COMPLETION_REFUSED_MS = 2000;

const MISSING = missingClientToolchains({ python: true, go: true });
const SKIP = MISSING.length > 0 && !process.env.CI;
if (SKIP) console.warn(`skipping the client-helpers lease fence test: missing ${MISSING.join('; ')}`);

type Call = { at: number; body: any };
type FakeApi = {
  server: Server;
  url: string;
  leasedAt?: number;
  /** The leaseExpiresAt of the lease, then of each accepted heartbeat (ms). */
  granted: number[];
  heartbeats: { at: number; accepted: boolean }[];
  completions: (Call & { status: number })[];
};

let tmp: string;
let tsBuild: { dir: string; remove(): void } | undefined;
const apis = new Map<Lang, FakeApi>();
const workers = new Map<Lang, { proc: ChildProcess; output: string[] }>();

function readBody(req: IncomingMessage): Promise<any> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => resolve(text ? JSON.parse(text) : undefined));
  });
}

/** The fake API for one helper. Node sets the Date header on every answer, on the same clock as Date.now(). */
async function fakeApi(lang: Lang): Promise<FakeApi> {
  const api: FakeApi = { server: undefined as unknown as Server, url: '', granted: [], heartbeats: [], completions: [] };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', ...(status === 503 ? { 'retry-after': '1' } : {}) });
    res.end(JSON.stringify(body));
  };
  const unavailable = { statusCode: 503, error: 'Service Unavailable', message: 'the database is unavailable' };
  api.server = createServer((req, res) => {
    void readBody(req).then(async (body) => {
      const now = Date.now();
      const url = req.url ?? '';
      if (url.endsWith('/lease')) {
        if (api.leasedAt === undefined) {
          api.leasedAt = now;
          api.granted.push(now + LEASE_MS);
          return json(res, 200, { leases: [lease(lang, now + LEASE_MS)] });
        }
        // Nothing more to lease: a short long poll.
        await new Promise((r) => setTimeout(r, 500));
        return json(res, 200, { leases: [] });
      }
      if (url.endsWith('/heartbeat')) {
        const accepted = now - api.leasedAt! < HEARTBEATS_ACCEPTED_MS;
        api.heartbeats.push({ at: now, accepted });
        if (!accepted) return json(res, 503, unavailable);
        api.granted.push(now + LEASE_MS);
        return json(res, 200, { leaseExpiresAt: new Date(now + LEASE_MS).toISOString(), cancelRequested: false });
      }
      if (url.endsWith('/logs')) {
        res.writeHead(204).end();
        return;
      }
      if (url.endsWith('/complete')) {
        const first = api.completions[0]?.at ?? now;
        const status = now - first < COMPLETION_REFUSED_MS ? 503 : 200;
        api.completions.push({ at: now, body, status });
        return status === 503 ? json(res, 503, unavailable) : json(res, 200, { taskState: 'up_for_retry', runState: 'running', duplicate: false, leases: [] });
      }
      json(res, 404, { statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${url}` });
    });
  });
  await new Promise<void>((r) => api.server.listen(0, '127.0.0.1', r));
  api.url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  return api;
}

function lease(lang: Lang, expiresAt: number) {
  return {
    leaseId: `0b6c8a9e-3f1d-4d2a-9a57-6f1f3c2b8e4${LANGS.indexOf(lang)}`,
    dagId: 'fence',
    runId: 'manual__2026-01-01T00:00:00.000Z',
    taskId: 'hang',
    taskType: `${lang}_step`,
    mapIndex: -1,
    queue: 'default',
    tryNumber: 1,
    maxTries: 2,
    leaseExpiresAt: new Date(expiresAt).toISOString(),
    heartbeatIntervalSec: 1,
    executionDeadline: null,
    logicalDate: '2026-01-01T00:00:00.000Z',
    dataIntervalStart: '2026-01-01T00:00:00.000Z',
    dataIntervalEnd: '2026-01-01T00:00:00.000Z',
    params: {},
    conf: {},
    upstreamXcom: {},
    task: { taskId: 'hang', type: `${lang}_step`, args: { hangOnFirstTry: true } },
  };
}

function startWorker(lang: Lang): void {
  const [bin, args] = chainWorkerCommand(lang, tsBuild!.dir, join(tmp, 'go-chain-worker'));
  const proc = spawn(bin, args, {
    env: clientWorkerEnv({
      WEFT_API_URL: apis.get(lang)!.url,
      WEFT_WORKER_ID: `${lang}-worker`,
      WEFT_WAIT_SECONDS: '1',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  proc.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  proc.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  workers.set(lang, { proc, output });
}

function output(lang: Lang): string {
  return workers.get(lang)?.output.join('') ?? '';
}

beforeAll(async () => {
  if (SKIP) return;
  tmp = mkdtempSync(join(tmpdir(), 'weft-clients-fence-'));
  await Promise.all([
    buildTsClient().then((b) => (tsBuild = b)),
    buildGoChainWorker(join(tmp, 'go-chain-worker')),
  ]);
  for (const lang of LANGS) apis.set(lang, await fakeApi(lang));
}, 300_000);

afterAll(async () => {
  for (const { proc } of workers.values()) if (proc.pid && proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGKILL');
  await Promise.all([...apis.values()].map((a) => new Promise((r) => a.server.close(r))));
  tsBuild?.remove();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

(SKIP ? describe.skip : describe)('the client worker helpers without accepted heartbeats', () => {
  it.each(LANGS)('%s: stop the handler before the lease ends, stop heartbeating, report cancelled: lease_expired (retryable)', async (lang) => {
    const api = apis.get(lang)!;
    startWorker(lang);
    const accepted = await waitFor(
      async () => api.completions.find((c) => c.status === 200),
      `the ${lang} helper's completion\n${output(lang).slice(-3000)}`,
      60_000,
      50,
    );
    const first = api.completions[0]!;
    const initialExpiry = api.granted[0]!;
    const lastGranted = api.granted[api.granted.length - 1]!;
    const lastAccepted = api.heartbeats.filter((h) => h.accepted).at(-1)!;
    const said = `${lang}: leased at 0, heartbeats ${JSON.stringify(api.heartbeats.map((h) => ({ ...h, at: h.at - api.leasedAt! })))}, first completion at ${first.at - api.leasedAt!}, lease granted until ${lastGranted - api.leasedAt!}\n${output(lang).slice(-3000)}`;

    // The helper kept its lease alive while heartbeats were accepted (each one extended it)…
    expect({ said, extended: api.granted.length >= 3 && first.at > initialExpiry }).toEqual({ said, extended: true });
    // …and stopped the attempt once they no longer were, before the lease's end, not earlier than the fence.
    expect({ said, beforeTheEnd: first.at < lastGranted, afterTheFence: first.at - lastAccepted.at >= 1500 }).toEqual({ said, beforeTheEnd: true, afterTheFence: true });
    // The report: the built-in worker's, every time it was sent, and never a success.
    for (const c of api.completions) expect(c.body).toMatchObject({ status: 'failed', error: 'cancelled: lease_expired', retryable: true });
    expect(accepted.body.xcom ?? undefined).toBeUndefined();
    // The heartbeat of that attempt stopped at the fence, even though its report took a while to be accepted.
    expect({ said, lateHeartbeats: api.heartbeats.filter((h) => h.at > first.at + 300).length }).toEqual({ said, lateHeartbeats: 0 });
    expect(accepted.at - first.at).toBeGreaterThanOrEqual(COMPLETION_REFUSED_MS);
    // The handler itself was told why it had to stop (the examples print their stop reason), and the helper said so.
    await waitFor(async () => output(lang).includes('first try: stopped (lease_expired)'), `the ${lang} handler to be stopped\n${output(lang).slice(-3000)}`, 10_000, 50);
    expect(output(lang)).toContain('no heartbeat accepted for as long as the lease lives');

    const { proc } = workers.get(lang)!;
    proc.kill('SIGTERM');
    const code = proc.exitCode !== null ? proc.exitCode : await new Promise((r) => proc.once('exit', r));
    expect({ said, code }).toEqual({ said, code: 0 });
  }, 120_000);
});
