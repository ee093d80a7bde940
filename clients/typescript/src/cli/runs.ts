/** weft-cli runs trigger DAG [--conf JSON] [--wait] */
import { unwrap } from '../connection.js';
import { getDagRun, listTaskInstances, triggerDagRun } from '../generated/sdk.gen.js';
import type { DagRun, TaskInstance } from '../generated/types.gen.js';
import { CliFailure, table, type Context } from './context.js';
import { follow, subscriptionClient, TASK_EVENTS, type TaskEvent } from './subscriptions.js';

const FINAL_RUN_STATES = new Set(['success', 'failed']);
const FINAL_TASK_STATES = new Set(['success', 'failed', 'upstream_failed', 'skipped', 'removed']);

export function parseConf(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let conf: unknown;
  try {
    conf = JSON.parse(text);
  } catch (err) {
    throw new CliFailure(`--conf is not JSON: ${(err as Error).message}`, 2);
  }
  if (conf === null || typeof conf !== 'object' || Array.isArray(conf)) throw new CliFailure('--conf must be a JSON object', 2);
  return conf as Record<string, unknown>;
}

export async function trigger(ctx: Context, dagId: string, opts: { conf?: string; runId?: string; logicalDate?: string; wait?: boolean }): Promise<void> {
  const conf = parseConf(opts.conf);
  const body = { ...(conf ? { conf } : {}), ...(opts.runId ? { runId: opts.runId } : {}), ...(opts.logicalDate ? { logicalDate: opts.logicalDate } : {}) };
  const run = await unwrap(triggerDagRun({ client: ctx.client, path: { dagId }, body }));
  ctx.say(`triggered ${dagId} run ${run.runId} (logical date ${run.logicalDate})`);
  if (!opts.wait) return ctx.result(run);
  const final = await waitForRun(ctx, run);
  const tasks = await taskInstances(ctx, final);
  ctx.result({ run: final, taskInstances: tasks });
  if (!ctx.json) {
    ctx.say(table([['TASK', 'STATE', 'TRIES', 'DURATION'], ...tasks.map((t) => [t.taskId, t.state, `${t.tryNumber}/${t.maxTries}`, t.durationSec === null ? '' : `${t.durationSec.toFixed(1)}s`])]));
    ctx.say(`run ${final.runId}: ${final.state}`);
  }
  if (final.state !== 'success') throw new CliFailure(`run ${final.runId} ended ${final.state}`);
}

async function taskInstances(ctx: Context, run: DagRun): Promise<TaskInstance[]> {
  const page = await unwrap(listTaskInstances({ client: ctx.client, path: { dagId: run.dagId, runId: run.runId }}));
  return page.items;
}

/**
 * Follows the run's task events (from its first, replayed) and prints each transition; after each task reaches a
 * final state the run itself is read, since the run's own state changes in the same transaction as its last task's.
 * A run that finished before the subscription started is caught by the read made right after subscribing.
 */
async function waitForRun(ctx: Context, run: DagRun): Promise<DagRun> {
  const ws = subscriptionClient(ctx.connection);
  let final: DagRun | undefined;
  const check = async () => {
    const now = await unwrap(getDagRun({ client: ctx.client, path: { dagId: run.dagId, runId: run.runId } }));
    if (FINAL_RUN_STATES.has(now.state)) final = now;
    return final !== undefined;
  };
  try {
    const seen = new Set<number>();
    const events = follow<TaskEvent>(ws, TASK_EVENTS, { dagId: run.dagId, runId: run.runId, after: 0 }, 'taskInstanceStateChanged', async (e) => {
      if (seen.has(e.sequence)) return false;
      seen.add(e.sequence);
      ctx.say(`${e.at.slice(11, 19)}  ${e.taskId}: ${e.previousState ?? 'none'} → ${e.state}${e.tryNumber > 1 || e.state === 'up_for_retry' ? ` (try ${e.tryNumber}/${e.maxTries})` : ''}`);
      return FINAL_TASK_STATES.has(e.state) ? check() : false;
    });
    if (await check()) events.stop();
    else await events.done;
  } finally {
    await ws.dispose();
  }
  if (!final) throw new CliFailure(`the subscription ended before run ${run.runId} finished`);
  return final;
}
