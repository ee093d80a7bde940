#!/usr/bin/env node
// What a request costs the service before any engine work: the service process's CPU per request for a few requests
// that do little (no key, a key and one read, a refused body), against a bare node:http server answering a JSON body
// (the HTTP floor's server without its PostgreSQL), with the same keep-alive client (10 connections).
//
//   node bench/probe-request-cost.mjs [--n=3000] [--no-build]
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/flags.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const argv = parseFlags();
const N = Number(argv.n ?? 3000);
const { prepareBuild } = await import('./lib/build.mjs');
const build = prepareBuild(ROOT, { build: !argv['no-build'] });
process.env.WEFT_BENCH_BUILD = build.dir;
const db = await import('./lib/db.mjs');
const { startService } = await import('./lib/service.mjs');
const { httpClient } = await import('./lib/http.mjs');
const { SERVICE_ENV } = await import('./workloads/common.mjs');
const { procCpuS } = await import('./lib/proc.mjs');

async function loop(client, method, p, body, expect) {
  let left = N;
  await Promise.all(Array.from({ length: 10 }, async () => {
    while (left-- > 0) {
      const r = await client.request(method, p, body);
      if (r.status !== expect) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    }
  }));
}
async function measure(label, pid, client, method, p, body, expect) {
  await loop(client, method, p, body, expect); // warm-up
  const cpu0 = procCpuS(pid);
  const t0 = performance.now();
  await loop(client, method, p, body, expect);
  const cpuMs = ((procCpuS(pid) - cpu0) * 1000) / N;
  console.log(JSON.stringify({ request: label, cpu_ms_per_request: +cpuMs.toFixed(3), requests_per_s: Math.round(N / ((performance.now() - t0) / 1000)) }));
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-request-cost-'));
const bareFile = path.join(tmp, 'bare.mjs');
fs.writeFileSync(bareFile, `import http from 'node:http';
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body = null;
    try { body = chunks.length ? JSON.parse(Buffer.concat(chunks)) : null; } catch { /* not JSON */ }
    const out = JSON.stringify({ ok: true, fields: body && Object.keys(body).length });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
});
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`);
const fresh = await db.freshDb();
try {
  const bare = fork(bareFile);
  const port = await new Promise((resolve) => bare.once('message', resolve));
  const bc = httpClient(`http://127.0.0.1:${port}`, { maxSockets: 10 });
  await measure('bare node:http, JSON body in and out', bare.pid, bc, 'POST', '/x', { workerId: 'w', queues: ['q'], capacity: 1 }, 200);
  bc.close();
  bare.kill();

  const svc = await startService(fresh.url, { env: SERVICE_ENV });
  const c = httpClient(svc.url, { maxSockets: 10, apiKey: SERVICE_ENV.WEFT_ADMIN_API_KEY });
  await measure('GET /health (no key)', svc.pid, c, 'GET', '/health', undefined, 200);
  await measure('GET /api/v1/dags/nope (key, one read, 404)', svc.pid, c, 'GET', '/api/v1/dags/nope', undefined, 404);
  await measure('POST /api/v1/dags, refused body (key, validation, 400)', svc.pid, c, 'POST', '/api/v1/dags', { dagId: 'x' }, 400);
  c.close();
  await svc.close();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
  await fresh.drop();
  build.cleanup();
  await db.dropAll();
}
