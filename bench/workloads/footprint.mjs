// Workload 5, footprint: RSS of the service idle — the bench's service process (API only) and a real
// `weft start` (API + scheduler loop + built-in worker long-polling), both on an external PostgreSQL, so the
// embedded database is not counted. Under load: see FOOTPRINT_CONFIG in throughput.mjs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { freshDb } from '../lib/db.mjs';
import { rssMb } from '../lib/proc.mjs';
import { startService } from '../lib/service.mjs';
import { buildPath } from '../lib/weft.mjs';
import { SERVICE_ENV, sleep } from './common.mjs';


const freePort = () => new Promise((resolve, reject) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  srv.on('error', reject);
});

export async function footprintIdle(ctx, rep) {
  const SETTLE_MS = ctx.quick ? 1000 : 3000;
  // V8 gives back the heap it grew while starting only once a process has been idle for a while (its memory
  // reducer): the full run also samples both processes after a minute of idling.
  const LONG_IDLE_MS = ctx.quick ? 0 : 60_000;
  const db = await freshDb();
  try {
    const svc = await startService(db.url, { env: SERVICE_ENV });
    try {
      const svcStarted = Date.now();
      await sleep(SETTLE_MS);
      const serviceIdle = svc.rssMb();

      const port = await freePort();
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-bench-home-'));
      const child = spawn(process.execPath, [buildPath('bin/weft.js'), 'start'], {
        env: { ...process.env, ...SERVICE_ENV, DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1', WEFT_HOME: home,
          WEFT_LOG_LEVEL: 'warn', WEFT_LOG_PRETTY: 'false' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      try {
        const deadline = Date.now() + 30000;
        for (;;) {
          if (child.exitCode !== null) throw new Error(`weft start exited with ${child.exitCode}`);
          if (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)) break;
          if (Date.now() > deadline) throw new Error('weft start did not become healthy in 30 s');
          await sleep(100);
        }
        await sleep(SETTLE_MS);
        const weftStarted = Date.now() - SETTLE_MS;
        const weftStartIdle = rssMb(child.pid);
        const late = {};
        if (LONG_IDLE_MS) {
          await sleep(Math.max(0, LONG_IDLE_MS - (Date.now() - weftStarted)));
          late.weft_start_rss_after_long_idle_mb = rssMb(child.pid);
          await sleep(Math.max(0, LONG_IDLE_MS - (Date.now() - svcStarted)));
          late.service_rss_after_long_idle_mb = svc.rssMb();
          late.long_idle_ms = LONG_IDLE_MS;
        }
        ctx.record({ workload: 'footprint', variant: 'idle', rep, service_rss_idle_mb: serviceIdle, weft_start_rss_idle_mb: weftStartIdle,
          settle_ms: SETTLE_MS, ...late });
      } finally {
        const exited = new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
        await exited;
        clearTimeout(timer);
        fs.rmSync(home, { recursive: true, force: true });
      }
    } finally {
      await svc.close();
    }
  } finally {
    await db.drop();
  }
}
