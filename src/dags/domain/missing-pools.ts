import type { DagDocument } from './dag-document.schema.js';

/** Something a registration accepted but the author should know: `path` names the field as a 400 would. */
export type RegistrationWarning = { path: string; message: string };

/** The pools the document's tasks run in (a task's own, else defaultArgs'), each with the tasks and the first path. */
export function poolsUsed(doc: DagDocument): Map<string, { taskIds: string[]; path: string }> {
  const used = new Map<string, { taskIds: string[]; path: string }>();
  doc.tasks.forEach((task, i) => {
    const pool = task.pool ?? doc.defaultArgs.pool;
    const entry = used.get(pool) ?? { taskIds: [], path: task.pool !== undefined ? `tasks[${i}].pool` : 'defaultArgs.pool' };
    entry.taskIds.push(task.taskId);
    used.set(pool, entry);
  });
  return used;
}

/**
 * A task in a pool that does not exist is accepted: pools are often created after the DAGs that use them (a DAG
 * folder deployed before the pool), so refusing would make the order of deployment matter. It waits in `queued`,
 * saying why (its state reason), until the pool is created; the registration answers with this warning.
 */
export function missingPoolWarnings(doc: DagDocument, existing: ReadonlySet<string>): RegistrationWarning[] {
  return [...poolsUsed(doc)]
    .filter(([pool]) => !existing.has(pool))
    .map(([pool, { taskIds, path }]) => ({
      path,
      message:
        `pool '${pool}' does not exist: ${taskIds.length === 1 ? `task ${taskIds[0]} stays` : `tasks ${taskIds.join(', ')} stay`} queued ` +
        `until it is created (POST /api/v1/pools)`,
    }));
}
