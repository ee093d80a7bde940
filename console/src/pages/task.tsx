import { useEffect, useRef, useState } from 'preact/hooks';
import { gql } from '../lib/api';
import { fmtDuration, fmtTime } from '../lib/format';
import { follow } from '../lib/live';
import { href } from '../lib/router';
import { useSession } from '../lib/session';
import { Dialog, ErrorBox, Json, Loading, StateBadge, useAction, useAsync } from '../lib/ui';
import { useLiveSnapshot } from '../lib/use-live-snapshot';
import { AffectedList, ClearDialog, type Affected } from '../components/clear-dialog';
import { seconds } from './run';

type Try = { tryNumber: number; state: string; workerId: string | null; hostname: string | null; startDate: string | null; endDate: string | null; error: string | null };
type Ti = {
  taskId: string;
  mapIndex: number;
  state: string;
  stateReason: string | null;
  tryNumber: number;
  maxTries: number;
  taskType: string;
  queue: string;
  pool: string;
  poolSlots: number;
  priorityWeight: number;
  queuedAt: string | null;
  startDate: string | null;
  endDate: string | null;
  durationSec: number | null;
  nextRetryAt: string | null;
  lastError: string | null;
  tries: Try[];
  xcomEntries: { key: string; value: unknown; tryNumber: number }[];
};
type Snap = { taskInstance: Ti; dag: { document: { tasks?: Record<string, unknown>[] } } };
type Ev = { taskId: string; mapIndex: number | null; state: string; tryNumber: number; startDate: string | null; endDate: string | null };
type Rendered = { task: Record<string, unknown> | null; error: string | null; upstreamXcom: Record<string, unknown>; tryNumber: number };

const TI_FIELDS = `taskId mapIndex state stateReason tryNumber maxTries taskType queue pool poolSlots priorityWeight queuedAt startDate endDate durationSec nextRetryAt lastError
  tries { tryNumber state workerId hostname startDate endDate error } xcomEntries { key value tryNumber }`;
const POSITIONS = `query($d: ID!, $r: String!) { dagRun(dagId: $d, runId: $r) { taskEventSequence } }`;
const SNAPSHOT = `query($d: ID!, $r: String!, $t: String!, $m: Int) { taskInstance(dagId: $d, runId: $r, taskId: $t, mapIndex: $m) { ${TI_FIELDS} } dag(dagId: $d) { document } }`;
const TI_EVENTS = `subscription($d: ID!, $r: String!, $afterSequence: Int) { taskInstanceStateChanged(dagId: $d, runId: $r, afterSequence: $afterSequence) {
  sequence taskId mapIndex state tryNumber startDate endDate } }`;
const RENDERED = `query($d: ID!, $r: String!, $t: String!, $m: Int) { renderedTask(dagId: $d, runId: $r, taskId: $t, mapIndex: $m) { task error upstreamXcom tryNumber } }`;
const ONE_TI = `query($d: ID!, $r: String!, $t: String!, $m: Int) { taskInstance(dagId: $d, runId: $r, taskId: $t, mapIndex: $m) { ${TI_FIELDS} } }`;

/**
 * One task instance (of a mapped task: one of its instances, by map index): tries, the log tailing live, XCom, the
 * task's definition; clear and mark with a preview.
 */
export function TaskPage({ dagId, runId, taskId, mapIndex }: { dagId: string; runId: string; taskId: string; mapIndex: number }) {
  const session = useSession();
  const vars = { d: dagId, r: runId, t: taskId, m: mapIndex };
  const name = mapIndex >= 0 ? `${taskId} [${mapIndex}]` : taskId;
  const { snap, error, setSnap } = useLiveSnapshot<Snap, { dagRun: { taskEventSequence: number } }, Ev>({
    deps: [dagId, runId, taskId, mapIndex],
    positions: POSITIONS,
    snapshot: SNAPSHOT,
    variables: vars,
    sources: [
      {
        query: TI_EVENTS,
        variables: { d: dagId, r: runId },
        position: (p) => p.dagRun.taskEventSequence,
        event: (d) => (d as { taskInstanceStateChanged: Ev & { sequence: number } }).taskInstanceStateChanged,
      },
    ],
    apply: (s, e) => (e.taskId === taskId && (e.mapIndex ?? -1) === mapIndex ? { ...s, taskInstance: { ...s.taskInstance, state: e.state, tryNumber: e.tryNumber, startDate: e.startDate, endDate: e.endDate, durationSec: seconds(e.startDate, e.endDate) } } : s),
  });
  // Tries, errors and XCom change with the state: read them again when it moves.
  const state = snap?.taskInstance.state;
  const tryNumber = snap?.taskInstance.tryNumber;
  useEffect(() => {
    if (state === undefined) return;
    let live = true;
    gql<{ taskInstance: Ti }>(ONE_TI, vars).then(
      (r) => live && setSnap((s) => (s ? { ...s, taskInstance: { ...r.taskInstance, state: s.taskInstance.state } } : s)),
      () => undefined,
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state, tryNumber]);
  // What the task renders to with this run's context (the same rendering its lease carries); upstream XCom arrives
  // as upstream tasks finish, which moves this task's state, so it is read again then.
  const rendered = useAsync(() => gql<{ renderedTask: Rendered }>(RENDERED, vars), [dagId, runId, taskId, mapIndex, state, tryNumber]);
  const [dialog, setDialog] = useState<null | 'clear' | 'success' | 'failed'>(null);
  const [logTry, setLogTry] = useState<number | null>(null);

  if (!snap) return error ? mapIndex === -1 ? <MappedInstances dagId={dagId} runId={runId} taskId={taskId} error={error} /> : <ErrorBox error={error} /> : <Loading what={`task ${name}`} />;
  const ti = snap.taskInstance;
  const definition = snap.dag.document.tasks?.find((t) => t['taskId'] === taskId);
  const shownTry = logTry ?? Math.max(1, ti.tryNumber);
  return (
    <section>
      <header class="page-head">
        <h1>
          <a href={href.dags()}>DAGs</a> / <a href={href.dag(dagId)}>{dagId}</a> / <a href={href.run(dagId, runId)}>{runId}</a> / {name}
        </h1>
        <p>
          <StateBadge state={ti.state} /> <span class="muted">try {ti.tryNumber} of {ti.maxTries}</span>
        </p>
        {session.canOperate ? (
          <div class="actions">
            <button type="button" onClick={() => setDialog('clear')}>
              Clear…
            </button>
            <button type="button" onClick={() => setDialog('success')}>
              Mark success…
            </button>
            <button type="button" onClick={() => setDialog('failed')}>
              Mark failed…
            </button>
          </div>
        ) : null}
        <ErrorBox error={error} />
      </header>
      <dl class="facts">
        {ti.stateReason ? (
          <>
            <dt>Why it waits</dt>
            <dd class="state-reason" data-state-reason>
              {ti.stateReason}
            </dd>
          </>
        ) : null}
        {mapIndex >= 0 ? (
          <>
            <dt>Map index</dt>
            <dd>
              {mapIndex} (one instance of the mapped task {taskId})
            </dd>
          </>
        ) : null}
        <dt>Type</dt>
        <dd>{ti.taskType}</dd>
        <dt>Queue / pool</dt>
        <dd>
          {ti.queue} / {ti.pool} ({ti.poolSlots} slot(s)), priority {ti.priorityWeight}
        </dd>
        <dt>Queued</dt>
        <dd>{fmtTime(ti.queuedAt)}</dd>
        <dt>Started</dt>
        <dd>{fmtTime(ti.startDate)}</dd>
        <dt>Ended</dt>
        <dd>{fmtTime(ti.endDate)}</dd>
        <dt>Duration</dt>
        <dd>{fmtDuration(ti.durationSec)}</dd>
        {ti.nextRetryAt ? (
          <>
            <dt>Next retry</dt>
            <dd>{fmtTime(ti.nextRetryAt)}</dd>
          </>
        ) : null}
        {ti.lastError ? (
          <>
            <dt>Last error</dt>
            <dd class="error-text">{ti.lastError}</dd>
          </>
        ) : null}
      </dl>
      <h2>Tries</h2>
      {ti.tries.length ? (
        <table class="list" aria-label="Tries">
          <thead>
            <tr>
              <th scope="col">Try</th>
              <th scope="col">State</th>
              <th scope="col">Worker</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Error</th>
              <th scope="col">Log</th>
            </tr>
          </thead>
          <tbody>
            {ti.tries.map((t) => (
              <tr data-try={t.tryNumber}>
                <td>{t.tryNumber}</td>
                <td>
                  <StateBadge state={t.state} />
                </td>
                <td>{t.workerId ?? '—'}</td>
                <td>{fmtTime(t.startDate)}</td>
                <td>{fmtDuration(seconds(t.startDate, t.endDate))}</td>
                <td class="error-text">{t.error ?? ''}</td>
                <td>
                  <button type="button" aria-pressed={t.tryNumber === shownTry} onClick={() => setLogTry(t.tryNumber)}>
                    Log of try {t.tryNumber}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">No attempt yet.</p>
      )}
      <h2>Log (try {shownTry})</h2>
      <LogTail key={`${shownTry}`} dagId={dagId} runId={runId} taskId={taskId} mapIndex={mapIndex} tryNumber={shownTry} />
      <h2>XCom</h2>
      {ti.xcomEntries.length ? (
        <table class="list" aria-label="XCom">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Value</th>
              <th scope="col">Try</th>
            </tr>
          </thead>
          <tbody>
            {ti.xcomEntries.map((x) => (
              <tr>
                <td>
                  <code>{x.key}</code>
                </td>
                <td>
                  <Json value={x.value} />
                </td>
                <td>{x.tryNumber}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">No XCom values.</p>
      )}
      <h2 id="rendered-heading">Rendered</h2>
      <RenderedView rendered={rendered.data?.renderedTask} error={rendered.error} />
      <h2>Definition</h2>
      {definition ? <Json value={definition} /> : <p class="muted">The task is not in the DAG's current document.</p>}
      {dialog === 'clear' ? <ClearDialog dagId={dagId} runId={runId} taskId={taskId} mapIndex={mapIndex} onClose={() => setDialog(null)} /> : null}
      {dialog === 'success' || dialog === 'failed' ? <MarkDialog dagId={dagId} runId={runId} taskId={taskId} mapIndex={mapIndex} state={dialog} onClose={() => setDialog(null)} /> : null}
    </section>
  );
}

const INSTANCES = `query($d: ID!, $r: String!) { dagRun(dagId: $d, runId: $r) { taskInstances { taskId mapIndex state tryNumber } } }`;

/**
 * The address of a mapped task without a map index, once it has expanded (its placeholder −1 is gone, and the API
 * answers 404 saying how many instances there are): the API's message and a link to each instance.
 */
function MappedInstances({ dagId, runId, taskId, error }: { dagId: string; runId: string; taskId: string; error: string }) {
  const list = useAsync(() => gql<{ dagRun: { taskInstances: { taskId: string; mapIndex: number; state: string; tryNumber: number }[] } | null }>(INSTANCES, { d: dagId, r: runId }), [dagId, runId]);
  const instances = list.data?.dagRun?.taskInstances.filter((t) => t.taskId === taskId && t.mapIndex >= 0) ?? [];
  return (
    <section>
      <header class="page-head">
        <h1>
          <a href={href.dags()}>DAGs</a> / <a href={href.dag(dagId)}>{dagId}</a> / <a href={href.run(dagId, runId)}>{runId}</a> / {taskId}
        </h1>
      </header>
      <ErrorBox error={error} />
      {instances.length ? (
        <>
          <h2>Instances of {taskId}</h2>
          <ul class="instances" aria-label={`Instances of ${taskId}`}>
            {instances.map((t) => (
              <li>
                <a href={href.task(dagId, runId, taskId, t.mapIndex)}>
                  {taskId} [{t.mapIndex}]
                </a>{' '}
                <StateBadge state={t.state} />
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

/** The task's work fields with every template rendered (Airflow's "Rendered Template"), or why rendering fails. */
function RenderedView({ rendered, error }: { rendered?: Rendered; error?: string }) {
  if (error) return <ErrorBox error={error} />;
  if (!rendered) return <Loading what="the rendered task" />;
  if (rendered.error) {
    return (
      <p class="error-text" data-rendered="error">
        {rendered.error}
      </p>
    );
  }
  const task = rendered.task ?? {};
  const command = typeof task['command'] === 'string' ? task['command'] : null;
  return (
    <div class="rendered" data-rendered="ok">
      <p class="muted">With this run's dates, params, conf and upstream XCom as they stand now: what a worker receives for the next try.</p>
      {command !== null ? (
        <pre class="log-lines rendered-command" tabIndex={0} aria-label="Rendered command">
          {command}
        </pre>
      ) : null}
      <Json value={task} />
    </div>
  );
}

const LOG_LINES = `subscription($d: ID!, $r: String!, $t: String!, $m: Int, $try: Int, $afterId: String) {
  taskLogLines(dagId: $d, runId: $r, taskId: $t, mapIndex: $m, tryNumber: $try, afterId: $afterId) { lastId lines { id line stream at } }
}`;
/** Lines kept on the page; older ones give way (the full log is at the REST logs endpoint). */
const MAX_LINES = 5_000;

/** The log of one try, from its first line and then live as lines are appended (the taskLogLines subscription). */
function LogTail({ dagId, runId, taskId, mapIndex, tryNumber }: { dagId: string; runId: string; taskId: string; mapIndex: number; tryNumber: number }) {
  const [lines, setLines] = useState<{ id: string; line: string; stream: string }[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [follow_, setFollow] = useState(true);
  const box = useRef<HTMLPreElement>(null);
  useEffect(
    () =>
      follow<{ taskLogLines: { lastId: string; lines: { id: string; line: string; stream: string }[] } }>(
        LOG_LINES,
        { d: dagId, r: runId, t: taskId, m: mapIndex, try: tryNumber },
        { name: 'afterId', value: null },
        (d) => d.taskLogLines.lastId,
        (d) => setLines((cur) => [...cur, ...d.taskLogLines.lines].slice(-MAX_LINES)),
        setError,
      ),
    [dagId, runId, taskId, mapIndex, tryNumber],
  );
  useEffect(() => {
    if (follow_ && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, follow_]);
  return (
    <div class="log">
      <label class="inline">
        <input type="checkbox" checked={follow_} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow the end of the log
      </label>
      <ErrorBox error={error} />
      <pre ref={box} class="log-lines" tabIndex={0} aria-label={`Log of try ${tryNumber}`} aria-live="off" data-lines={lines.length}>
        {lines.length ? lines.map((l) => <span class={`log-${l.stream}`}>{`${l.line}\n`}</span>) : <span class="muted">(no lines yet)</span>}
      </pre>
    </div>
  );
}

function MarkDialog({ dagId, runId, taskId, mapIndex, state, onClose }: { dagId: string; runId: string; taskId: string; mapIndex: number; state: 'success' | 'failed'; onClose: () => void }) {
  const [downstream, setDownstream] = useState(false);
  const [preview, setPreview] = useState<Affected[] | null>(null);
  const action = useAction();
  const call = (dryRun: boolean) =>
    gql<{ markTaskInstance: { taskInstances: Affected[] } }>(
      `mutation($d: ID!, $r: String!, $t: String!, $m: Int, $input: MarkTaskInstanceInput!) { markTaskInstance(dagId: $d, runId: $r, taskId: $t, mapIndex: $m, input: $input) {
        dryRun runState taskInstances { runId taskId mapIndex state tryNumber } } }`,
      { d: dagId, r: runId, t: taskId, m: mapIndex, input: { newState: state, includeDownstream: downstream, dryRun } },
    );
  useEffect(() => {
    setPreview(null);
    void action.run(async () => setPreview((await call(true)).markTaskInstance.taskInstances));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [downstream]);
  return (
    <Dialog title={`Mark ${taskId}${mapIndex >= 0 ? ` [${mapIndex}]` : ''} ${state}`} onClose={onClose}>
      <label class="inline">
        <input type="checkbox" checked={downstream} onChange={(e) => setDownstream(e.currentTarget.checked)} /> also downstream tasks
      </label>
      <h3>These task instances will be marked {state}:</h3>
      {preview ? <AffectedList items={preview} /> : <Loading what="the preview" />}
      <ErrorBox error={action.error} />
      <div class="actions">
        <button type="button" class="primary" disabled={!preview || !preview.length || action.busy} onClick={() => void action.run(() => call(false)).then((ok) => ok && onClose())}>
          Confirm mark {state}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
