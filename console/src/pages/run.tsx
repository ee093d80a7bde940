import { useState } from 'preact/hooks';
import { gql } from '../lib/api';
import { fmtDuration, fmtTime } from '../lib/format';
import { ClearDialog } from '../components/clear-dialog';
import { href } from '../lib/router';
import { useSession } from '../lib/session';
import { Dialog, ErrorBox, Json, Loading, StateBadge, useAction } from '../lib/ui';
import { useLiveSnapshot } from '../lib/use-live-snapshot';

type Ti = { taskId: string; mapIndex: number; state: string; tryNumber: number; maxTries: number; startDate: string | null; endDate: string | null; durationSec: number | null; taskType: string; queue: string; pool: string };
type Run = {
  runId: string;
  state: string;
  runType: string;
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  queuedAt: string;
  startDate: string | null;
  endDate: string | null;
  conf: unknown;
  backfillId: number | null;
  clearNumber: number;
  taskInstances: Ti[];
};
type Snap = { dagRun: Run };
type Positions = { dag: { runEventSequence: number }; dagRun: { taskEventSequence: number } };
type Ev =
  | { kind: 'ti'; taskId: string; mapIndex: number | null; state: string; tryNumber: number; startDate: string | null; endDate: string | null }
  | { kind: 'run'; runId: string; state: string; startDate: string | null; endDate: string | null };

const POSITIONS = `query($d: ID!, $r: String!) { dag(dagId: $d) { runEventSequence } dagRun(dagId: $d, runId: $r) { taskEventSequence } }`;
const SNAPSHOT = `query($d: ID!, $r: String!) { dagRun(dagId: $d, runId: $r) {
  runId state runType logicalDate dataIntervalStart dataIntervalEnd queuedAt startDate endDate conf backfillId clearNumber
  taskInstances { taskId mapIndex state tryNumber maxTries startDate endDate durationSec taskType queue pool } } }`;
const TI_EVENTS = `subscription($d: ID!, $r: String!, $afterSequence: Int) { taskInstanceStateChanged(dagId: $d, runId: $r, afterSequence: $afterSequence) {
  sequence taskId mapIndex state tryNumber startDate endDate } }`;
const RUN_EVENTS = `subscription($d: ID!, $afterSequence: Int) { dagRunStateChanged(dagId: $d, afterSequence: $afterSequence) { sequence runId state startDate endDate } }`;

export const seconds = (start: string | null, end: string | null): number | null => (start && end ? (Date.parse(end) - Date.parse(start)) / 1000 : null);

function apply(snap: Snap, e: Ev): Snap {
  const run = snap.dagRun;
  if (e.kind === 'run') return e.runId === run.runId ? { dagRun: { ...run, state: e.state, startDate: e.startDate, endDate: e.endDate } } : snap;
  const mapIndex = e.mapIndex ?? -1;
  const change = { state: e.state, tryNumber: e.tryNumber, startDate: e.startDate, endDate: e.endDate, durationSec: seconds(e.startDate, e.endDate) };
  if (run.taskInstances.some((t) => t.taskId === e.taskId && t.mapIndex === mapIndex)) {
    return { dagRun: { ...run, taskInstances: run.taskInstances.map((t) => (t.taskId === e.taskId && t.mapIndex === mapIndex ? { ...t, ...change } : t)) } };
  }
  // A new instance: a mapped task expanded (its placeholder −1, left in no status, was replaced by instances 0…n−1).
  const like = run.taskInstances.find((t) => t.taskId === e.taskId);
  if (!like) return snap;
  const added: Ti = { ...like, ...change, mapIndex };
  const list = run.taskInstances;
  const placeholder = list.findIndex((t) => t.taskId === e.taskId && t.mapIndex === -1 && t.state === 'none');
  if (placeholder >= 0 && mapIndex >= 0) return { dagRun: { ...run, taskInstances: list.map((t, i) => (i === placeholder ? added : t)) } };
  const after = list.findLastIndex((t) => t.taskId === e.taskId && t.mapIndex < mapIndex);
  const at = after >= 0 ? after + 1 : list.indexOf(like);
  return { dagRun: { ...run, taskInstances: [...list.slice(0, at), added, ...list.slice(at)] } };
}

/** One run: its task instances live, and marking the whole run. */
export function RunPage({ dagId, runId }: { dagId: string; runId: string }) {
  const session = useSession();
  const vars = { d: dagId, r: runId };
  const { snap, error, reload } = useLiveSnapshot<Snap, Positions, Ev>({
    deps: [dagId, runId],
    positions: POSITIONS,
    snapshot: SNAPSHOT,
    variables: vars,
    sources: [
      {
        query: TI_EVENTS,
        variables: vars,
        position: (p) => p.dagRun.taskEventSequence,
        event: (d) => ({ kind: 'ti' as const, ...(d as { taskInstanceStateChanged: Omit<Extract<Ev, { kind: 'ti' }>, 'kind'> & { sequence: number } }).taskInstanceStateChanged }),
      },
      {
        query: RUN_EVENTS,
        variables: { d: dagId },
        position: (p) => p.dag.runEventSequence,
        event: (d) => ({ kind: 'run' as const, ...(d as { dagRunStateChanged: Omit<Extract<Ev, { kind: 'run' }>, 'kind'> & { sequence: number } }).dagRunStateChanged }),
      },
    ],
    apply,
  });
  const [marking, setMarking] = useState<'success' | 'failed' | null>(null);
  const [clearing, setClearing] = useState(false);
  if (!snap) return error ? <ErrorBox error={error} /> : <Loading what={`run ${runId}`} />;
  const run = snap.dagRun;
  return (
    <section>
      <header class="page-head">
        <h1>
          <a href={href.dags()}>DAGs</a> / <a href={href.dag(dagId)}>{dagId}</a> / {run.runId}
        </h1>
        <p>
          <StateBadge state={run.state} /> <span class="muted">{run.runType} run</span>
          {run.backfillId ? (
            <>
              {' '}
              · <a href={href.backfill(run.backfillId)}>backfill {run.backfillId}</a>
            </>
          ) : null}
        </p>
        {session.canOperate ? (
          <div class="actions">
            <button type="button" onClick={() => setClearing(true)}>
              Clear run…
            </button>
            <button type="button" onClick={() => setMarking('success')}>
              Mark run success
            </button>
            <button type="button" onClick={() => setMarking('failed')}>
              Mark run failed
            </button>
          </div>
        ) : null}
        <ErrorBox error={error} />
      </header>
      <dl class="facts">
        <dt>Logical date</dt>
        <dd>{fmtTime(run.logicalDate)}</dd>
        <dt>Data interval</dt>
        <dd>
          {fmtTime(run.dataIntervalStart)} → {fmtTime(run.dataIntervalEnd)}
        </dd>
        <dt>Queued</dt>
        <dd>{fmtTime(run.queuedAt)}</dd>
        <dt>Started</dt>
        <dd>{fmtTime(run.startDate)}</dd>
        <dt>Ended</dt>
        <dd>{fmtTime(run.endDate)}</dd>
        <dt>Duration</dt>
        <dd>{fmtDuration(seconds(run.startDate, run.endDate))}</dd>
        <dt>Cleared</dt>
        <dd>{run.clearNumber} time(s)</dd>
      </dl>
      <h2>Task instances</h2>
      <table class="list" aria-label="Task instances">
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">State</th>
            <th scope="col">Try</th>
            <th scope="col">Type</th>
            <th scope="col">Queue / pool</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {run.taskInstances.map((t) => (
            <tr data-task={t.taskId} data-map-index={t.mapIndex}>
              <td>
                <a href={href.task(dagId, runId, t.taskId, t.mapIndex)}>{t.mapIndex >= 0 ? `${t.taskId} [${t.mapIndex}]` : t.taskId}</a>
              </td>
              <td>
                <StateBadge state={t.state} />
              </td>
              <td>
                {t.tryNumber} of {t.maxTries}
              </td>
              <td>{t.taskType}</td>
              <td>
                {t.queue} / {t.pool}
              </td>
              <td>{fmtTime(t.startDate)}</td>
              <td>{fmtDuration(t.durationSec)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>conf</h2>
      <Json value={run.conf} />
      {clearing ? <ClearDialog dagId={dagId} runId={runId} onClose={() => setClearing(false)} /> : null}
      {marking ? <MarkRunDialog dagId={dagId} runId={runId} state={marking} onClose={() => setMarking(null)} onDone={reload} /> : null}
    </section>
  );
}

function MarkRunDialog({ dagId, runId, state, onClose, onDone }: { dagId: string; runId: string; state: 'success' | 'failed'; onClose: () => void; onDone: () => void }) {
  const action = useAction();
  return (
    <Dialog title={`Mark run ${runId} ${state}?`} onClose={onClose}>
      <p>{state === 'success' ? 'Every unfinished task becomes success.' : 'Attempted tasks fail and the rest are skipped.'}</p>
      <ErrorBox error={action.error} />
      <div class="actions">
        <button
          type="button"
          class="primary"
          disabled={action.busy}
          onClick={() =>
            void action
              .run(() => gql(`mutation($d: ID!, $r: String!, $s: MarkState!) { markDagRun(dagId: $d, runId: $r, state: $s) { state } }`, { d: dagId, r: runId, s: state }))
              .then((ok) => ok && (onDone(), onClose()))
          }
        >
          Mark {state}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
