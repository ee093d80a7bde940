import type { UpstreamXcoms } from '../../../templating/domain/template-context.js';

/** One XCom entry of a task instance of a run, as the pull reads it (instances `removed` already left out). */
export type XcomRow = { taskId: string; key: string; mapIndex: number; value: unknown };

/**
 * The XCom of the pulled tasks as templates, leases, a built-in branch's `choose` and a mapped task's `expand` see
 * it: task id → key → value. One rule for all of them (Airflow's `xcom_pull` without map indexes):
 * - an unmapped task's value is its own instance's (map index −1);
 * - a mapped task's is the list of its instances' values in map index order (map index ≥ 0, the instances that
 *   published the key); its unexpanded placeholder (−1) never counts, even if it had XCom. Airflow's pull of a
 *   mapped task is likewise the sequence of its mapped instances' values.
 * A task none of whose instances published anything is absent.
 */
export function shapePulledXcom(rows: readonly XcomRow[], mapped: ReadonlySet<string>): UpstreamXcoms {
  const out: Record<string, Record<string, unknown>> = {};
  const sorted = [...rows].sort((a, b) => a.mapIndex - b.mapIndex);
  for (const r of sorted) {
    const isMapped = mapped.has(r.taskId);
    if (isMapped ? r.mapIndex < 0 : r.mapIndex !== -1) continue;
    const entries = (out[r.taskId] ??= {});
    if (isMapped) ((entries[r.key] ??= []) as unknown[]).push(r.value);
    else entries[r.key] = r.value;
  }
  return out;
}
