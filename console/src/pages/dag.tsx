import { useCallback, useMemo, useState } from 'preact/hooks';
import { DagGraph } from '../components/graph';
import { Grid } from '../components/grid';
import { gql } from '../lib/api';
import { fmtSchedule, fmtTime } from '../lib/format';
import { extraTaskIds, instanceCounts, isMapped, rowsOf, withExtraTasks } from '../lib/grid-model';
import { href } from '../lib/router';
import { useSession } from '../lib/session';
import { stateGlyph, stateLabel, TASK_STATES } from '../lib/states';
import { Dialog, ErrorBox, Field, Loading, useAction } from '../lib/ui';
import { useDagRuns } from '../lib/use-dag-runs';
import { DagCode } from './dag-code';

const RUN_COUNTS = [10, 25, 50, 100];

export function DagPage({ dagId, tab }: { dagId: string; tab: 'grid' | 'graph' | 'code' }) {
  const session = useSession();
  const [limit, setLimit] = useState(() => Number(new URLSearchParams(window.location.search).get('runs')) || 25);
  const { dag, cols, error, liveError, setDag } = useDagRuns(dagId, limit);
  const [triggering, setTriggering] = useState(false);
  const [graphRun, setGraphRun] = useState<string | null>(null);
  const pause = useAction();
  const tasks = useMemo(() => dag?.document.tasks ?? [], [dag]);
  // Unfolded rows (a group's `group:<id>`, a mapped task's id), kept per tab so a reload keeps them.
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set(JSON.parse(sessionStorage.getItem(`weft.unfolded.${dagId}`) ?? '[]') as string[]));
  const onToggle = useCallback(
    (key: string) =>
      setExpanded((cur) => {
        const next = new Set(cur);
        if (!next.delete(key)) next.add(key);
        sessionStorage.setItem(`weft.unfolded.${dagId}`, JSON.stringify([...next]));
        return next;
      }),
    [dagId],
  );
  // Rows are rebuilt only when what they show changes (not on every event: memoised rows compare by identity).
  const mappedIds = useMemo(() => tasks.filter(isMapped).map((t) => t.taskId), [tasks]);
  const countsKey = JSON.stringify(instanceCounts(cols, mappedIds));
  const extraKey = extraTaskIds(tasks, cols).join('\u0000');
  const rows = useMemo(
    () => withExtraTasks(rowsOf(tasks, expanded, JSON.parse(countsKey) as Record<string, number>), extraKey ? extraKey.split('\u0000') : []),
    [tasks, expanded, countsKey, extraKey],
  );

  if (error) return <ErrorBox error={error} />;
  if (!dag) return <Loading what={`DAG ${dagId}`} />;
  const chosen = cols.find((c) => c.runId === graphRun) ?? cols[cols.length - 1] ?? null;
  const tabs: [typeof tab, string][] = [
    ['grid', 'Grid'],
    ['graph', 'Graph'],
    ['code', 'Document and versions'],
  ];

  return (
    <section>
      <header class="page-head">
        <h1>
          <a href={href.dags()}>DAGs</a> / {dag.dagId}
        </h1>
        <p class="muted">
          {dag.description ?? ''} Schedule <code>{fmtSchedule(dag.schedule)}</code> ({dag.timezone}) · next run {dag.isPaused ? 'none while paused' : fmtTime(dag.nextDagrunLogicalDate)} · version {dag.latestVersion}
          {dag.tags.length ? ` · tags ${dag.tags.join(', ')}` : ''}
        </p>
        <div class="actions">
          {session.canOperate ? (
            <>
              <button type="button" class="primary" onClick={() => setTriggering(true)}>
                Trigger run
              </button>
              <button
                type="button"
                disabled={pause.busy}
                aria-pressed={dag.isPaused}
                onClick={() =>
                  void pause.run(async () => {
                    const r = await gql<Record<string, { isPaused: boolean }>>(`mutation($d: ID!) { ${dag.isPaused ? 'unpauseDag' : 'pauseDag'}(dagId: $d) { isPaused } }`, { d: dagId });
                    setDag({ ...dag, isPaused: Object.values(r)[0]!.isPaused });
                  })
                }
              >
                {dag.isPaused ? 'Unpause' : 'Pause'}
              </button>
            </>
          ) : (
            <span class="muted">{dag.isPaused ? 'Paused' : 'Active'}</span>
          )}
        </div>
        <ErrorBox error={pause.error ?? liveError} />
      </header>
      <nav class="tabs" aria-label="DAG views">
        {tabs.map(([t, label]) => (
          <a href={href.dag(dagId, t)} aria-current={t === tab ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {tab === 'grid' ? (
        <>
          <Field label="Runs shown">
            <select value={limit} onChange={(e) => setLimit(Number(e.currentTarget.value))}>
              {RUN_COUNTS.map((n) => (
                <option value={n}>{n}</option>
              ))}
            </select>
          </Field>
          <Grid dagId={dagId} rows={rows} cols={cols} onToggle={onToggle} />
          <Legend />
        </>
      ) : null}
      {tab === 'graph' ? (
        <>
          <Field label="States of run">
            <select value={chosen?.runId ?? ''} onChange={(e) => setGraphRun(e.currentTarget.value)}>
              {[...cols].reverse().map((c) => (
                <option value={c.runId}>
                  {c.runId} ({stateLabel(c.state)})
                </option>
              ))}
            </select>
          </Field>
          <div class="graph-wrap">
            <DagGraph dagId={dagId} tasks={tasks} run={chosen} expanded={expanded} onToggle={onToggle} />
          </div>
        </>
      ) : null}
      {tab === 'code' ? <DagCode dagId={dagId} latest={dag.latestVersion} /> : null}
      {triggering ? <TriggerDialog dagId={dagId} onClose={() => setTriggering(false)} /> : null}
    </section>
  );
}

function Legend() {
  return (
    <ul class="legend" aria-label="Legend">
      {TASK_STATES.map((s) => (
        <li>
          <span class={`cell s-${s}`} aria-hidden="true">
            {stateGlyph(s)}
          </span>{' '}
          {stateLabel(s)}
        </li>
      ))}
    </ul>
  );
}

/** conf must be a JSON object: checked here before anything is sent, with the parser's message. */
export function parseConf(text: string): { conf?: Record<string, unknown>; error?: string } {
  if (!text.trim()) return { conf: {} };
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: 'conf must be a JSON object, like {"key": "value"}' };
    return { conf: v as Record<string, unknown> };
  } catch (err) {
    return { error: `conf is not valid JSON: ${(err as Error).message}` };
  }
}

/** The new run appears in the grid by itself (a run event). */
function TriggerDialog({ dagId, onClose }: { dagId: string; onClose: () => void }) {
  const [conf, setConf] = useState('{}');
  const [runId, setRunId] = useState('');
  const [logicalDate, setLogicalDate] = useState('');
  const [confError, setConfError] = useState<string | null>(null);
  const action = useAction();
  return (
    <Dialog title={`Trigger ${dagId}`} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const parsed = parseConf(conf);
          setConfError(parsed.error ?? null);
          if (parsed.error) return;
          void action
            .run(() =>
              gql(`mutation($d: ID!, $input: TriggerDagRunInput) { triggerDagRun(dagId: $d, input: $input) { created run { runId } } }`, {
                d: dagId,
                input: { conf: parsed.conf, runId: runId.trim() || undefined, logicalDate: logicalDate.trim() || undefined },
              }),
            )
            .then((ok) => ok && onClose());
        }}
      >
        <Field label="Run id" hint="Optional; default manual__<logical date>">
          <input name="runId" value={runId} onInput={(e) => setRunId(e.currentTarget.value)} />
        </Field>
        <Field label="Logical date" hint="Optional ISO 8601 with an offset, e.g. 2024-01-15T06:00:00Z; default now">
          <input name="logicalDate" value={logicalDate} onInput={(e) => setLogicalDate(e.currentTarget.value)} />
        </Field>
        <Field label="conf (JSON object)">
          <textarea name="conf" rows={6} value={conf} aria-invalid={confError ? 'true' : undefined} onInput={(e) => setConf(e.currentTarget.value)} />
        </Field>
        <ErrorBox error={confError ?? action.error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={action.busy}>
            Trigger
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
