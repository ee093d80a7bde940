/**
 * Structured ids for log lines that concern a DAG, run, task or attempt, so logs can be filtered by field rather
 * than parsed out of messages. Pass them to a Nest Logger as `logger.warn({ msg, ...attemptFields(ti) })`.
 */
export function attemptFields(t: { dagId: string; runId: string; taskId: string; tryNumber: number }) {
  return { dagId: t.dagId, runId: t.runId, taskId: t.taskId, tryNumber: t.tryNumber };
}

export function runFields(r: { dagId: string; runId: string }) {
  return { dagId: r.dagId, runId: r.runId };
}
