import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiKeysService } from '../../src/auth/api-keys.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { buildGoChainWorker, buildTsClient, missingClientToolchains, chainWorkerCommand, clientWorkerEnv } from '../support/clients.js';
import { waitFor } from '../support/wait.js';

/**
 * Workers and bad keys (issue 19.5): `weft worker` and the worker helpers of the three clients (run as real processes)
 * stop on 401/403 with one message naming the key by its listed prefix (never the secret) and what to do, and exit
 * non-zero; when the API cannot be reached they say where and why, and keep trying.
 */
const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));
const QUEUE = 'refusals';
const MISSING = missingClientToolchains({ python: true, go: true });
const CLIENTS = MISSING.length === 0 || Boolean(process.env.CI);
if (!CLIENTS) console.warn(`worker refusals: testing only \`weft worker\`, the client helpers need ${MISSING.join('; ')}`);

type Kind = 'weft' | 'ts' | 'py' | 'go';
const KINDS: Kind[] = CLIENTS ? ['weft', 'ts', 'py', 'go'] : ['weft'];

let t: TestApp;
let baseUrl: string;
let tmp: string;
let tsBuild: { dir: string; remove(): void } | undefined;
const keys: Record<'revoked' | 'viewer', string> = { revoked: '', viewer: '' };
const procs: ChildProcess[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'weft-refusals-'));
  await Promise.all([
    startTestApp({ WEFT_AUTH: 'on' }).then((app) => (t = app)),
    CLIENTS ? buildTsClient().then((b) => (tsBuild = b)) : undefined,
    CLIENTS
      ? buildGoChainWorker(join(tmp, 'go-chain-worker'))
      : undefined,
  ]);
  baseUrl = await t.listen();
  const apiKeys = t.app.get(ApiKeysService);
  const revoked = await apiKeys.create({ name: 'revoked worker', role: 'worker' });
  await apiKeys.revoke(revoked.id);
  keys.revoked = revoked.key;
  keys.viewer = (await apiKeys.create({ name: 'a viewer', role: 'viewer' })).key;
}, 300_000);

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await t?.close();
  tsBuild?.remove();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

type Ran = { proc: ChildProcess; output: () => string; exited: Promise<number | null> };

function startWorker(kind: Kind, apiUrl: string, apiKey: string | undefined): Ran {
  const [bin, args] = kind === 'weft' ? [process.execPath, [BIN, 'worker']] : chainWorkerCommand(kind, tsBuild?.dir ?? '', join(tmp, 'go-chain-worker'));
  const proc = spawn(bin, args, {
    env: clientWorkerEnv({
      WEFT_API_URL: apiUrl,
      WEFT_WORKER_QUEUES: QUEUE,
      WEFT_WAIT_SECONDS: '1',
      WEFT_LOG_PRETTY: 'false',
      ...(apiKey ? { WEFT_API_KEY: apiKey } : {}),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(proc);
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return { proc, output: () => output, exited: new Promise((resolve) => proc.once('exit', (code) => resolve(code))) };
}

/** What each kind tells to do, naming where its key comes from. */
const TODO: Record<Kind, string> = {
  weft: 'set WEFT_API_KEY to a valid key with role worker',
  ts: 'give the worker a valid key with role worker (apiKey',
  py: 'give the worker a valid key with role worker (api_key',
  go: 'give the worker a valid key with role worker (APIKey',
};

describe('a worker whose key is refused', () => {
  it.each(KINDS)('%s: a revoked key stops it with the key prefix and what to do, exit 1', async (kind) => {
    const w = startWorker(kind, baseUrl, keys.revoked);
    expect(await w.exited).toBe(1);
    const out = w.output();
    expect(out).toContain(`the API at ${baseUrl} refused API key ${keys.revoked.slice(0, 12)}… (401: unknown or revoked API key)`);
    expect(out).toContain(TODO[kind]);
    expect(out).not.toContain(keys.revoked.slice(12));
    // Said once, not once per retry.
    expect(out.split('refused API key').length - 1).toBe(1);
  }, 120_000);

  it.each(KINDS)('%s: a key without the right to lease names the queues (403), exit 1', async (kind) => {
    const w = startWorker(kind, baseUrl, keys.viewer);
    expect(await w.exited).toBe(1);
    expect(w.output()).toContain(`does not let API key ${keys.viewer.slice(0, 12)}… lease from queue(s) ${QUEUE} (403: `);
    expect(w.output()).not.toContain(keys.viewer.slice(12));
  }, 120_000);

  it('weft worker without WEFT_API_KEY says it needs one, exit 1', async () => {
    const w = startWorker('weft', baseUrl, undefined);
    expect(await w.exited).toBe(1);
    expect(w.output()).toContain(`the API at ${baseUrl} needs an API key (401: missing API key`);
    expect(w.output()).toContain('set WEFT_API_KEY to a key with role worker');
  }, 120_000);
});

describe('a worker that cannot reach the API', () => {
  it.each(KINDS)('%s: says where and why, backs off and keeps trying', async (kind) => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => resolve(port));
      });
    });
    const w = startWorker(kind, `http://127.0.0.1:${port}`, keys.viewer);
    const said = new RegExp(`cannot reach the API at http://127\\.0\\.0\\.1:${port}: .*(ECONNREFUSED|[Cc]onnection refused)`);
    await waitFor(async () => (said.test(w.output()) ? true : w.proc.exitCode !== null ? 'exited' : false), `the connection error (output: ${w.output()})`, 60_000);
    expect(w.output()).toMatch(said);
    // Still running: a retry, not a stop. Then a clean shutdown.
    expect(w.proc.exitCode).toBeNull();
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(w.output()).not.toMatch(/HTTP undefined/);
  }, 120_000);
});
