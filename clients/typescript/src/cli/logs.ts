/** weft-cli logs DAG RUN TASK [--try N] [--follow] */
import { unwrap } from '../connection.js';
import { getTaskInstance, getTaskLogs } from '../generated/sdk.gen.js';
import type { LogLine } from '../generated/types.gen.js';
import type { Context } from './context.js';

const FINAL_TASK_STATES = new Set(['success', 'failed', 'upstream_failed', 'skipped', 'removed']);
const PAGE = 1000;

/**
 * Prints the task's log lines (every try, or one with --try). With --follow it keeps reading new lines, once a
 * second, until the task instance reaches a final state; the lines of the last read are printed too.
 */
export async function logs(ctx: Context, dagId: string, runId: string, taskId: string, opts: { try?: number; follow?: boolean; pollMs?: number }): Promise<void> {
  const path = { dagId, runId, taskId };
  let offset = 0;
  const all: LogLine[] = [];
  const readNew = async () => {
    for (;;) {
      const page = await unwrap(getTaskLogs({ client: ctx.client, path, query: { limit: PAGE, offset, ...(opts.try ? { tryNumber: opts.try } : {}) } }));
      for (const line of page.items) {
        if (ctx.json && opts.follow) process.stdout.write(`${JSON.stringify(line)}\n`);
        else if (ctx.json) all.push(line);
        else process.stdout.write(`${opts.try ? '' : `[try ${line.tryNumber}] `}${line.line}\n`);
      }
      offset += page.items.length;
      if (page.items.length < PAGE) return;
    }
  };
  for (;;) {
    // The state is read before the lines: lines written before the task finished are all in the read that follows.
    const finished = !opts.follow || FINAL_TASK_STATES.has((await unwrap(getTaskInstance({ client: ctx.client, path }))).state);
    await readNew();
    if (finished) break;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
  }
  if (ctx.json && !opts.follow) ctx.result(all);
}
