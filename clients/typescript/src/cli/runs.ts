/** weft-cli runs trigger DAG [--conf JSON] [--wait]; weft-cli runs wait DAG RUN */
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
  await followToEnd(ctx, run);
}

/** Follows an existing run (finished or not) like `trigger --wait`: its transitions, then the summary. */
export async function wait(ctx: Context, dagId: string, runId: string): Promise<void> {
  await followToEnd(ctx, await unwrap(getDagRun({ client: ctx.client, path: { dagId, runId } })));
}

async function followToEnd(ctx: Context, run: DagRun): Promise<void> {
  const { run: final, tasks } = await waitForRun(ctx, run);
  ctx.result({ run: final, taskInstances: tasks });
  if (!ctx.json) {
    ctx.say(table([['TASK', 'STATE', 'TRIES', 'DURATION'], ...tasks.map((t) => [t.taskId, t.state, `${t.tryNumber}/${t.maxTries}`, t.durationSec === null ? '' : `${t.durationSec.toFixed(1)}s`])]));
    // Why each task failed (its last try's error), so that a failed run in CI says more than its state.
    for (const t of tasks) {
      if (t.state === 'failed' && t.lastError) ctx.say(`${t.taskId}${t.mapIndex >= 0 ? `[${t.mapIndex}]` : ''} failed: ${t.lastError.split('\n')[0]}`);
    }
    ctx.say(`run ${final.runId}: ${final.state}`);
  }
  if (final.state !== 'success') throw new CliFailure(`run ${final.runId} ended ${final.state}`);
}

async function taskInstances(ctx: Context, run: DagRun): Promise<TaskInstance[]> {
  const page = await unwrap(listTaskInstances({ client: ctx.client, path: { dagId: run.dagId, runId: run.runId }}));
  return page.items;
}

/** How long the progress may lag once the run has ended before the summary is printed without the rest of it. */
const DRAIN_MS = 15_000;

/**
 * Follows the run's task events (from its first, replayed) and prints each transition; after each task reaches a
 * final state the run itself is read, since the run's own state changes in the same transaction as its last task's.
 * A run that finished before the subscription started is caught by the read made right after subscribing.
 * Events are numbered just after their transaction commits, so the run can read as finished while its last
 * transitions are still on their way: once it has, the run's task instances are read and the events followed until
 * each instance's last printed state is its final one (or, should the stream stall, for DRAIN_MS at most).
 */
async function waitForRun(ctx: Context, run: DagRun): Promise<{ run: DagRun; tasks: TaskInstance[] }> {
  const ws = subscriptionClient(ctx.connection);
  const key = (taskId: string, mapIndex: number | null) => `${taskId}[${mapIndex ?? -1}]`;
  const printed = new Map<string, string>();
  let final: { run: DagRun; tasks: TaskInstance[] } | undefined;
  const allPrinted = () => final!.tasks.every((t) => t.state === 'none' || printed.get(key(t.taskId, t.mapIndex)) === t.state);
  let events: { done: Promise<void>; stop(): void } | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  const check = async () => {
    if (!final) {
      const now = await unwrap(getDagRun({ client: ctx.client, path: { dagId: run.dagId, runId: run.runId } }));
      if (!FINAL_RUN_STATES.has(now.state)) return false;
      final = { run: now, tasks: await taskInstances(ctx, now) };
      drainTimer = setTimeout(() => events?.stop(), DRAIN_MS);
    }
    return allPrinted();
  };
  try {
    const seen = new Set<number>();
    events = follow<TaskEvent>(ws, TASK_EVENTS, { dagId: run.dagId, runId: run.runId, after: 0 }, 'taskInstanceStateChanged', async (e) => {
      if (seen.has(e.sequence)) return false;
      seen.add(e.sequence);
      printed.set(key(e.taskId, e.mapIndex), e.state);
      ctx.say(`${e.at.slice(11, 19)}  ${e.taskId}${e.mapIndex !== null && e.mapIndex >= 0 ? `[${e.mapIndex}]` : ''}: ${e.previousState ?? 'none'} → ${e.state}${e.tryNumber > 1 || e.state === 'up_for_retry' ? ` (try ${e.tryNumber}/${e.maxTries})` : ''}`);
      return final || FINAL_TASK_STATES.has(e.state) ? check() : false;
    });
    if (await check()) events.stop();
    else await events.done;
  } finally {
    clearTimeout(drainTimer);
    await ws.dispose();
  }
  if (!final) throw new CliFailure(`the subscription ended before run ${run.runId} finished`);
  return final;
}
