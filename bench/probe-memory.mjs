#!/usr/bin/env node
// The service's memory over a long throughput run: what it keeps alive (heap used after a full GC) and its RSS,
// every 2,000 tasks. A live heap that grows with the tasks done is a leak; a flat one with a growing RSS is V8
// letting its heap grow between collections (WEFT_HEAP_GROWING_PERCENT, docs/operations.md#memory).
//
//   node bench/probe-memory.mjs [--tasks=20000] [--capacity=1] [--no-build]
//
// The service runs with --expose-gc (plus WEFT_BENCH_NODE_ARGS), so every sample is taken after a full GC: the RSS
// here is lower than in an unprobed run, whose peaks the throughput workload reports.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/flags.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const argv = parseFlags();
const TASKS = Number(argv.tasks ?? 20000);
const CAPACITY = Number(argv.capacity ?? 1);
const { prepareBuild } = await import('./lib/build.mjs');
const build = prepareBuild(path.dirname(BENCH), { build: !argv['no-build'] });
process.env.WEFT_BENCH_BUILD = build.dir;
process.env.WEFT_BENCH_NODE_ARGS = `--expose-gc ${process.env.WEFT_BENCH_NODE_ARGS ?? ''}`;
const db = await import('./lib/db.mjs');
const { withService, prefillQueue, TASKS_PER_RUN } = await import('./workloads/common.mjs');

const sample = async (svc, label) => {
  const m = await svc.call('mem');
  console.log(`${String(label).padStart(8)}  heap used ${m.heapUsed} MB  heap total ${m.heapTotal} MB  RSS ${m.rss} MB`);
};
try {
  await withService({ sizes: {} }, async ({ svc, api, worker, sql }) => {
    await sample(svc, 'boot');
    await prefillQueue({ svc, api, sql }, 'mem', Math.ceil(TASKS / TASKS_PER_RUN));
    await sample(svc, 'queued');
    let done = 0;
    let mark = 2000;
    await Promise.all(Array.from({ length: 10 }, async (_, i) => {
      const lease = () => worker.lease(`w${i}`, { queues: ['mem'], capacity: CAPACITY, waitSeconds: 0 });
      for (let batch = await lease(); batch.length; batch = await lease()) {
        for (const l of batch) {
          await worker.complete(l.leaseId);
          done++;
        }
        if (done >= mark) {
          mark += 2000;
          await sample(svc, done);
        }
      }
    }));
    await sample(svc, 'end');
  });
} finally {
  build.cleanup();
  await db.dropAll();
}
