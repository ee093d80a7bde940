import { useEffect, useState } from 'preact/hooks';
import { gql } from '../lib/api';
import { Dialog, ErrorBox, Loading, useAction } from '../lib/ui';

export type Affected = { runId: string; taskId: string; mapIndex: number; state: string; tryNumber: number };

export function AffectedList({ items }: { items: Affected[] }) {
  if (!items.length) return <p class="muted">Nothing would change.</p>;
  return (
    <ul class="affected" aria-label="Task instances affected">
      {items.map((a) => (
        <li>
          {a.runId} / <strong>{a.taskId}</strong>
          {a.mapIndex >= 0 ? ` [${a.mapIndex}]` : ''} (now {a.state}, try {a.tryNumber})
        </li>
      ))}
    </ul>
  );
}

/**
 * Clear: the dry run lists what would be cleared; only then can it be confirmed. With a task, that task (and, as
 * chosen, its up/downstream); with a map index too, that one instance of a mapped task (up/downstream tasks are
 * cleared whole); without a task, every task instance of the run (or only its failed ones).
 */
export function ClearDialog({ dagId, runId, taskId, mapIndex = -1, onClose }: { dagId: string; runId: string; taskId?: string; mapIndex?: number; onClose: () => void }) {
  const [downstream, setDownstream] = useState(true);
  const [upstream, setUpstream] = useState(false);
  const [onlyFailed, setOnlyFailed] = useState(false);
  const [preview, setPreview] = useState<Affected[] | null>(null);
  const action = useAction();
  const input = (dryRun: boolean) =>
    taskId
      ? { taskIds: [taskId], ...(mapIndex >= 0 ? { mapIndexes: [mapIndex] } : {}), runIds: [runId], includeDownstream: downstream, includeUpstream: upstream, onlyFailed, dryRun } : { runIds: [runId], onlyFailed, dryRun };
  const call = (dryRun: boolean) =>
    gql<{ clearTaskInstances: { taskInstances: Affected[] } }>(`mutation($d: ID!, $input: ClearTaskInstancesInput) { clearTaskInstances(dagId: $d, input: $input) { dryRun taskInstances { runId taskId mapIndex state tryNumber } } }`, {
      d: dagId,
      input: input(dryRun),
    });
  useEffect(() => {
    setPreview(null);
    void action.run(async () => setPreview((await call(true)).clearTaskInstances.taskInstances));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [downstream, upstream, onlyFailed]);
  return (
    <Dialog title={taskId ? `Clear ${taskId}${mapIndex >= 0 ? ` [${mapIndex}]` : ''}` : `Clear run ${runId}`} onClose={onClose}>
      {taskId ? (
        <fieldset>
          <legend>Also clear</legend>
          <label class="inline">
            <input type="checkbox" checked={downstream} onChange={(e) => setDownstream(e.currentTarget.checked)} /> downstream tasks
          </label>
          <label class="inline">
            <input type="checkbox" checked={upstream} onChange={(e) => setUpstream(e.currentTarget.checked)} /> upstream tasks
          </label>
          <label class="inline">
            <input type="checkbox" checked={onlyFailed} onChange={(e) => setOnlyFailed(e.currentTarget.checked)} /> only failed ones
          </label>
        </fieldset>
      ) : (
        <label class="inline">
          <input type="checkbox" checked={onlyFailed} onChange={(e) => setOnlyFailed(e.currentTarget.checked)} /> only failed task instances
        </label>
      )}
      <h3>These task instances will be cleared and run again:</h3>
      {preview ? <AffectedList items={preview} /> : <Loading what="the preview" />}
      <ErrorBox error={action.error} />
      <div class="actions">
        <button type="button" class="primary" disabled={!preview || !preview.length || action.busy} onClick={() => void action.run(() => call(false)).then((ok) => ok && onClose())}>
          Confirm clear
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}

