#!/usr/bin/env node
// Paired before/after of the scheduler workload's expand_1000 (issue 23) on a shared, noisy machine: the builds of
// two git refs run side by side, each service on its own fresh database, and their samples alternate (A, B, B, A,
// …) so both see the same load; prints each side's median and how many pairs B won. Separate bench runs
// (npm run bench -- --only=scheduler --scheduler=expand --ref=…) could not tell a 10 % change from the noise.
// Both refs must have the same migrations (one migrated template serves both).
//
//   node bench/ab-expand.mjs --a=REF_A --b=REF_B [--samples=40]
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/flags.mjs';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const argv = parseFlags();
const refA = argv.a;
const refB = argv.b;
const SAMPLES = Number(argv.samples ?? 40);
if (!refA || !refB) throw new Error('usage: node bench/ab-expand.mjs --a=REF_A --b=REF_B [--samples=N]');
try {
  execFileSync('git', ['diff', '--quiet', refA, refB, '--', 'prisma/migrations'], { cwd: ROOT });
} catch {
  throw new Error(`${refA} and ${refB} have different migrations: one template database cannot serve both`);
}
const { prepareBuild } = await import('./lib/build.mjs');
const builds = [prepareBuild(ROOT, { ref: refA }), prepareBuild(ROOT, { ref: refB })];
process.env.WEFT_BENCH_BUILD = builds[0].dir;
const db = await import('./lib/db.mjs');
const { startService } = await import('./lib/service.mjs');
const { weftApi } = await import('./lib/http.mjs');
const { foreignCpu } = await import('./lib/proc.mjs');
const { SERVICE_ENV, dagDoc, now } = await import('./workloads/common.mjs');
const sides = [];
try {
  for (const b of builds) {
    process.env.WEFT_BENCH_BUILD = b.dir;
    const fresh = await db.freshDb();
    const svc = await startService(fresh.url, { env: SERVICE_ENV });
    const api = weftApi(svc.url, { apiKey: SERVICE_ENV.WEFT_ADMIN_API_KEY });
    await api.setPoolSlots('default_pool', 1_000_000);
    await api.registerDag(dagDoc('map1k', [
      { taskId: 'src', type: 'noop' },
      { taskId: 'm', type: 'noop', dependsOn: ['src'], expand: { file: { xcomPull: { taskId: 'src' } } } },
    ], { maxActiveRuns: 1000, maxActiveTasks: 10_000 }));
    sides.push({ ref: b.info.commit, fresh, svc, api, ms: [] });
  }
  const files = Array.from({ length: 1000 }, (_, i) => `s3://bucket/in/part-${String(i).padStart(5, '0')}.csv`);
  const foreign = foreignCpu();
  for (let i = 0; i < SAMPLES + 1; i++) {
    const order = i % 2 ? sides : [...sides].reverse();
    for (const s of order) {
      await s.api.trigger('map1k', { logicalDate: new Date(Date.UTC(2024, 0, 1, SAMPLES + 1 - i)).toISOString() });
      const [l] = await s.api.lease('ab', { queues: ['map1k'], capacity: 1, waitSeconds: 0 });
      if (l.taskId !== 'src') throw new Error('leased ' + l.taskId);
      const t0 = now();
      await s.api.complete(l.leaseId, { status: 'success', xcom: { return_value: files } });
      if (i > 0) s.ms.push(now() - t0);
    }
  }
  const f = foreign();
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return +s[s.length >> 1].toFixed(1); };
  const wins = sides[1].ms.filter((x, i) => x < sides[0].ms[i]).length;
  for (const s of sides) console.log(JSON.stringify({ ref: s.ref, samples: SAMPLES, median_ms: med(s.ms), min_ms: +Math.min(...s.ms).toFixed(1), max_ms: +Math.max(...s.ms).toFixed(1) }));
  console.log(JSON.stringify({ paired_B_faster: `${wins}/${SAMPLES}`, foreign_cpu_s: f }));
} finally {
  for (const s of sides) { s.api.close(); await s.svc.close(); await s.fresh.drop(); }
  await db.dropAll();
  for (const b of builds) b.cleanup();
}
