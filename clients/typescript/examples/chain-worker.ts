/**
 * Example worker: runs tasks of type `ts_step`. Its result extends the `chain` it finds in its upstream tasks'
 * XCom (other languages' workers do the same for `py_step` and `go_step`; see clients/README.md).
 *   WEFT_API_URL=http://127.0.0.1:8080 WEFT_API_KEY=… node dist/examples/chain-worker.js
 */
import { existsSync } from 'node:fs';
import { Worker, WorkerRefusedError, type TaskContext } from '../src/index.js';

type StepResult = { language: string; chain: string[]; total: number };

function upstreamChain(ctx: TaskContext): StepResult[] {
  return Object.values(ctx.lease.upstreamXcom)
    .map((xcom) => xcom.return_value as StepResult | undefined)
    .filter((r): r is StepResult => Array.isArray(r?.chain));
}

async function step(ctx: TaskContext): Promise<StepResult> {
  const args = (ctx.lease.task.args ?? {}) as { add?: string | number; hangOnFirstTry?: boolean; holdUntilFile?: string; silent?: boolean };
  if (args.hangOnFirstTry && ctx.lease.tryNumber === 1) {
    ctx.log('first try: hanging until stopped');
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    // Why it had to stop (a CancelReason: lease_lost, lease_expired, cancel_requested, shutdown, execution_timeout).
    console.log(`first try: stopped (${String(ctx.signal.reason)})`);
  }
  // Tests hold a task until a moment of their choosing (a file appears), and may ask for no log line (`silent`).
  while (args.holdUntilFile && !existsSync(args.holdUntilFile) && !ctx.signal.aborted) await new Promise((r) => setTimeout(r, 50));
  const upstream = upstreamChain(ctx);
  const longest = upstream.reduce<StepResult | undefined>((a, b) => (!a || b.chain.length > a.chain.length ? b : a), undefined);
  const total = (longest?.total ?? 0) + Number(args.add ?? 1);
  if (!args.silent) ctx.log(`try ${ctx.lease.tryNumber}: total ${total}`);
  ctx.pushXcom('greeting', 'hello from TypeScript');
  return { language: 'ts', chain: [...(longest?.chain ?? []), 'ts'], total };
}

const worker = new Worker({
  baseUrl: process.env.WEFT_API_URL ?? 'http://127.0.0.1:8080',
  apiKey: process.env.WEFT_API_KEY,
  workerId: process.env.WEFT_WORKER_ID,
  queues: (process.env.WEFT_WORKER_QUEUES ?? 'default').split(','),
  waitSeconds: Number(process.env.WEFT_WAIT_SECONDS ?? 20),
  concurrency: Number(process.env.WEFT_WORKER_CONCURRENCY ?? 1),
});
worker.handle('ts_step', step);
try {
  await worker.run();
} catch (err) {
  // The API refused the key: the worker has said which and what to do; exit non-zero for the supervisor.
  if (!(err instanceof WorkerRefusedError)) throw err;
  process.exitCode = 1;
}
