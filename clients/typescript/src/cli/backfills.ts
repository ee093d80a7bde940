/** weft-cli backfill create DAG --from DATE --to DATE [--dry-run] [--no-wait] */
import { SingleBar } from 'cli-progress';
import { unwrap } from '../connection.js';
import { createBackfill, getBackfill } from '../generated/sdk.gen.js';
import type { Backfill, BackfillDryRun, CreateBackfillRequest } from '../generated/types.gen.js';
import { CliFailure, type Context } from './context.js';
import { parseConf } from './runs.js';
import { BACKFILL_EVENTS, follow, subscriptionClient, type BackfillEvent } from './subscriptions.js';

export type BackfillOptions = {
  from: string;
  to: string;
  dryRun?: boolean;
  wait?: boolean;
  maxActiveRuns?: number;
  reprocess?: 'none' | 'failed' | 'completed';
  backwards?: boolean;
  conf?: string;
};

export async function create(ctx: Context, dagId: string, opts: BackfillOptions): Promise<void> {
  const conf = parseConf(opts.conf);
  const body: CreateBackfillRequest = {
    dagId,
    fromDate: opts.from,
    toDate: opts.to,
    ...(opts.maxActiveRuns !== undefined ? { maxActiveRuns: opts.maxActiveRuns } : {}),
    ...(opts.reprocess ? { reprocessBehavior: opts.reprocess } : {}),
    ...(opts.backwards ? { runBackwards: true } : {}),
    ...(conf ? { conf } : {}),
    ...(opts.dryRun ? { dryRun: true } : {}),
  };
  const answer = await unwrap(createBackfill({ client: ctx.client, body }));
  if (opts.dryRun) return dryRun(ctx, answer as BackfillDryRun);
  const backfill = answer as Backfill;
  ctx.say(`backfill ${backfill.id}: ${dagId}, ${backfill.items.length} logical dates from ${backfill.fromDate} to ${backfill.toDate}`);
  if (opts.wait === false) return ctx.result(backfill);
  const final = await waitForBackfill(ctx, backfill);
  ctx.result(final);
  const failed = final.items.filter((i) => i.runState === 'failed').length;
  ctx.say(`backfill ${final.id} ${final.state}: ${summary(final)}`);
  if (final.state === 'canceled') throw new CliFailure(`backfill ${final.id} was canceled`);
  if (failed) throw new CliFailure(`backfill ${final.id}: ${failed} run${failed === 1 ? '' : 's'} failed`);
}

function dryRun(ctx: Context, plan: BackfillDryRun): void {
  ctx.result(plan);
  ctx.say(`dry run: ${plan.create.length} runs to create, ${plan.reprocess.length} to reprocess, ${plan.skip.length} skipped; nothing was written`);
  for (const d of plan.create) ctx.say(`  create     ${d}`);
  for (const r of plan.reprocess) ctx.say(`  reprocess  ${r.logicalDate}  (${r.runId})`);
  for (const s of plan.skip) ctx.say(`  skip       ${s.logicalDate}  (${s.reason})`);
}

function summary(b: Backfill): string {
  const by = (state: string) => b.items.filter((i) => i.status === 'started' && i.runState === state).length;
  const skipped = b.items.filter((i) => i.status === 'skipped').length;
  return `${by('success')} succeeded, ${by('failed')} failed, ${skipped} skipped of ${b.items.length}`;
}

/**
 * Shows a progress bar fed by the backfillProgress subscription (replayed from its first event) until the
 * backfill completes or is canceled: a bar redrawn on stderr when it is a terminal, otherwise a line on stdout per
 * change; nothing in JSON mode.
 */
async function waitForBackfill(ctx: Context, backfill: Backfill): Promise<Backfill> {
  const total = backfill.items.length;
  const bar = !ctx.json && process.stderr.isTTY
    ? new SingleBar({ format: 'backfill {bar} {value}/{total} done | {running} running | {failed} failed', stream: process.stderr, hideCursor: true })
    : null;
  bar?.start(total, 0, { running: 0, failed: 0 });
  const ws = subscriptionClient(ctx.connection);
  const read = () => unwrap(getBackfill({ client: ctx.client, path: { id: backfill.id } }));
  const over = (b: { completedAt: string | null; canceledAt: string | null }) => b.completedAt !== null || b.canceledAt !== null;
  try {
    let last = '';
    const events = follow<BackfillEvent>(ws, BACKFILL_EVENTS, { id: backfill.id, after: 0 }, 'backfillProgress', (e) => {
      const done = e.success + e.failed + e.skipped;
      if (bar) bar.update(done, { running: e.running, failed: e.failed });
      else {
        // Not a terminal (CI logs): one line per change instead of a redrawn bar.
        const line = `backfill ${backfill.id}: ${done}/${e.total} done, ${e.running} running, ${e.failed} failed`;
        if (line !== last) ctx.say((last = line));
      }
      return over(e);
    });
    if (over(await read())) events.stop();
    await events.done;
  } finally {
    bar?.stop();
    await ws.dispose();
  }
  return read();
}
