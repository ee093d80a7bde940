import { useEffect, useState } from 'preact/hooks';
import { gql } from '../lib/api';
import { fmtTime } from '../lib/format';
import { href } from '../lib/router';
import { useSession } from '../lib/session';
import { Dialog, ErrorBox, Field, Loading, StateBadge, useAction, useAsync } from '../lib/ui';
import { useLiveSnapshot } from '../lib/use-live-snapshot';
import { Pager } from './dags';

type Counts = { pending: number; queued: number; running: number; success: number; failed: number; skipped: number };
type BackfillSummary = { id: number; dagId: string; fromDate: string; toDate: string; state: string; isPaused: boolean; createdAt: string; counts: Counts };
type Plan = { create: string[]; reprocess: { logicalDate: string; runId: string }[]; skip: { logicalDate: string; reason: string }[] };

const PAGE = 50;
const LIST = `query($limit: Int!, $offset: Int!) { backfills(limit: $limit, offset: $offset) { totalEntries items {
  id dagId fromDate toDate state isPaused createdAt counts { pending queued running success failed skipped } } } }`;

const total = (c: Counts) => c.pending + c.queued + c.running + c.success + c.failed + c.skipped;
const done = (c: Counts) => c.success + c.failed + c.skipped;

export function Progress({ counts, label }: { counts: Counts; label: string }) {
  const all = total(counts);
  const pct = all ? Math.round((done(counts) * 100) / all) : 100;
  return (
    <div class="progress-wrap">
      <progress max={100} value={pct} aria-label={label} data-percent={pct} />
      <span>
        {pct}% ({done(counts)} of {all} dates: {counts.success} success, {counts.failed} failed, {counts.skipped} skipped, {counts.running} running, {counts.queued} queued,{' '}
        {counts.pending} pending)
      </span>
    </div>
  );
}

export function BackfillsPage() {
  const session = useSession();
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const { data, error } = useAsync(() => gql<{ backfills: { totalEntries: number; items: BackfillSummary[] } }>(LIST, { limit: PAGE, offset }), [offset]);
  return (
    <section>
      <header class="page-head">
        <h1>Backfills</h1>
        {session.canOperate ? (
          <div class="actions">
            <button type="button" class="primary" onClick={() => setCreating(true)}>
              New backfill…
            </button>
          </div>
        ) : null}
      </header>
      <ErrorBox error={error} />
      {!data ? <Loading what="backfills" /> : null}
      {data ? (
        <>
          <table class="list" aria-label="Backfills">
            <thead>
              <tr>
                <th scope="col">Backfill</th>
                <th scope="col">DAG</th>
                <th scope="col">Dates</th>
                <th scope="col">State</th>
                <th scope="col">Progress</th>
              </tr>
            </thead>
            <tbody>
              {data.backfills.items.map((b) => (
                <tr data-backfill={b.id}>
                  <td>
                    <a href={href.backfill(b.id)}>#{b.id}</a>
                  </td>
                  <td>
                    <a href={href.dag(b.dagId)}>{b.dagId}</a>
                  </td>
                  <td>
                    {fmtTime(b.fromDate)} → {fmtTime(b.toDate)}
                  </td>
                  {b.state === 'completed' || b.state === 'canceled' ? (
                    <ProgressCells id={b.id} state={b.state} counts={b.counts} />
                  ) : (
                    <LiveProgressCells backfill={b} />
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {data.backfills.items.length === 0 ? <p class="muted">No backfills yet.</p> : null}
          <Pager total={data.backfills.totalEntries} offset={offset} size={PAGE} onPage={setOffset} />
        </>
      ) : null}
      {creating ? <CreateBackfill onClose={() => setCreating(false)} /> : null}
    </section>
  );
}

function ProgressCells({ id, state, counts }: { id: number; state: string; counts: Counts }) {
  return (
    <>
      <td>{state}</td>
      <td>
        <Progress counts={counts} label={`Progress of backfill ${id}`} />
      </td>
    </>
  );
}

const ROW_SNAPSHOT = `query($id: Int!) { backfill(id: $id) { state counts { pending queued running success failed skipped } } }`;

/** The state and progress of an unfinished backfill in the list, live through its backfillProgress stream. */
function LiveProgressCells({ backfill }: { backfill: BackfillSummary }) {
  const { snap } = useLiveSnapshot<{ backfill: { state: string; counts: Counts } }, { backfill: { progressEventSequence: number } }, ProgressEvent>({
    deps: [backfill.id],
    positions: B_POSITIONS,
    snapshot: ROW_SNAPSHOT,
    variables: { id: backfill.id },
    sources: [
      { query: B_EVENTS, variables: { id: backfill.id }, position: (p) => p.backfill.progressEventSequence, event: (d) => (d as { backfillProgress: ProgressEvent & { sequence: number } }).backfillProgress },
    ],
    apply: (_s, e) => ({ backfill: { state: stateOf(e), counts: { pending: e.pending, queued: e.queued, running: e.running, success: e.success, failed: e.failed, skipped: e.skipped } } }),
  });
  const cur = snap?.backfill ?? backfill;
  return <ProgressCells id={backfill.id} state={cur.state} counts={cur.counts} />;
}

/** Create: the dry run shows the plan (dates to create, rerun and skip); the backfill starts only on confirmation. */
function CreateBackfill({ onClose }: { onClose: () => void }) {
  const [form, setForm] = useState({ dagId: '', fromDate: '', toDate: '', maxActiveRuns: '', reprocessBehavior: 'none', runBackwards: false });
  const [plan, setPlan] = useState<Plan | null>(null);
  const action = useAction();
  const input = (dryRun: boolean) => ({
    dagId: form.dagId.trim(),
    fromDate: form.fromDate.trim(),
    toDate: form.toDate.trim(),
    maxActiveRuns: form.maxActiveRuns ? Number(form.maxActiveRuns) : undefined,
    reprocessBehavior: form.reprocessBehavior,
    runBackwards: form.runBackwards,
    dryRun,
  });
  const set = (k: keyof typeof form) => (e: Event) => {
    const t = e.currentTarget as HTMLInputElement;
    setPlan(null);
    setForm({ ...form, [k]: t.type === 'checkbox' ? t.checked : t.value });
  };
  const MUTATION = `mutation($input: CreateBackfillInput!) { createBackfill(input: $input) { dryRun plan { create reprocess { logicalDate runId } skip { logicalDate reason } } backfill { id } } }`;
  return (
    <Dialog title="New backfill" onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => setPlan((await gql<{ createBackfill: { plan: Plan } }>(MUTATION, { input: input(true) })).createBackfill.plan));
        }}
      >
        <Field label="DAG id">
          <input name="dagId" required value={form.dagId} onInput={set('dagId')} />
        </Field>
        <Field label="From (logical date)" hint="ISO 8601 with an offset, e.g. 2024-01-01T00:00:00Z">
          <input name="fromDate" required value={form.fromDate} onInput={set('fromDate')} />
        </Field>
        <Field label="To (logical date)">
          <input name="toDate" required value={form.toDate} onInput={set('toDate')} />
        </Field>
        <Field label="Max active runs" hint="Optional">
          <input name="maxActiveRuns" type="number" min={1} value={form.maxActiveRuns} onInput={set('maxActiveRuns')} />
        </Field>
        <Field label="Dates that already have a run">
          <select name="reprocessBehavior" value={form.reprocessBehavior} onChange={set('reprocessBehavior')}>
            <option value="none">skip them</option>
            <option value="failed">run failed ones again</option>
            <option value="completed">run all completed ones again</option>
          </select>
        </Field>
        <label class="inline">
          <input type="checkbox" name="runBackwards" checked={form.runBackwards} onChange={set('runBackwards')} /> newest dates first
        </label>
        <div class="actions">
          <button type="submit" disabled={action.busy}>
            Preview
          </button>
        </div>
      </form>
      {plan ? (
        <div class="plan" aria-label="Backfill plan">
          <p>
            <strong>{plan.create.length}</strong> run(s) to create, <strong>{plan.reprocess.length}</strong> to run again, <strong>{plan.skip.length}</strong> date(s) skipped.
          </p>
          <ul>
            {plan.create.slice(0, 20).map((d) => (
              <li>create {fmtTime(d)}</li>
            ))}
            {plan.reprocess.slice(0, 20).map((r) => (
              <li>
                run again {fmtTime(r.logicalDate)} ({r.runId})
              </li>
            ))}
            {plan.skip.slice(0, 20).map((s) => (
              <li>
                skip {fmtTime(s.logicalDate)}: {s.reason}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <ErrorBox error={action.error} />
      <div class="actions">
        <button
          type="button"
          class="primary"
          disabled={!plan || action.busy || plan.create.length + plan.reprocess.length === 0}
          onClick={() =>
            void action.run(async () => {
              const r = await gql<{ createBackfill: { backfill: { id: number } } }>(MUTATION, { input: input(false) });
              window.location.hash = href.backfill(r.createBackfill.backfill.id);
            })
          }
        >
          Start backfill
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}

type Backfill = BackfillSummary & {
  maxActiveRuns: number;
  reprocessBehavior: string;
  runBackwards: boolean;
  completedAt: string | null;
  canceledAt: string | null;
  items: { logicalDate: string; status: string; runId: string | null; runState: string | null; skipReason: string | null }[];
};
type ProgressEvent = Counts & { isPaused: boolean; completedAt: string | null; canceledAt: string | null };

const B_POSITIONS = `query($id: Int!) { backfill(id: $id) { progressEventSequence } }`;
const B_SNAPSHOT = `query($id: Int!) { backfill(id: $id) { id dagId fromDate toDate state isPaused createdAt completedAt canceledAt maxActiveRuns reprocessBehavior runBackwards
  counts { pending queued running success failed skipped } items { logicalDate status runId runState skipReason } } }`;
const B_ITEMS = `query($id: Int!) { backfill(id: $id) { items { logicalDate status runId runState skipReason } } }`;
const B_EVENTS = `subscription($id: Int!, $afterSequence: Int) { backfillProgress(backfillId: $id, afterSequence: $afterSequence) {
  sequence pending queued running success failed skipped isPaused completedAt canceledAt } }`;

function stateOf(e: ProgressEvent): string {
  if (e.canceledAt) return 'canceled';
  if (e.completedAt) return 'completed';
  return e.isPaused ? 'paused' : 'running';
}

/** One backfill: progress live (backfillProgress), its dates, pause/unpause/cancel. */
export function BackfillPage({ id }: { id: number }) {
  const session = useSession();
  const { snap, error, reload, setSnap } = useLiveSnapshot<{ backfill: Backfill }, { backfill: { progressEventSequence: number } }, ProgressEvent>({
    deps: [id],
    positions: B_POSITIONS,
    snapshot: B_SNAPSHOT,
    variables: { id },
    sources: [{ query: B_EVENTS, variables: { id }, position: (p) => p.backfill.progressEventSequence, event: (d) => (d as { backfillProgress: ProgressEvent & { sequence: number } }).backfillProgress }],
    apply: (s, e) => ({
      backfill: {
        ...s.backfill,
        counts: { pending: e.pending, queued: e.queued, running: e.running, success: e.success, failed: e.failed, skipped: e.skipped },
        isPaused: e.isPaused,
        completedAt: e.completedAt,
        canceledAt: e.canceledAt,
        state: stateOf(e),
      },
    }),
  });
  const action = useAction();
  const [canceling, setCanceling] = useState(false);
  // The per-date table follows the progress events: read again whenever the counts move.
  const moved = snap ? `${JSON.stringify(snap.backfill.counts)}:${snap.backfill.state}` : null;
  useEffect(() => {
    if (!moved) return;
    let live = true;
    gql<{ backfill: { items: Backfill['items'] } }>(B_ITEMS, { id }).then(
      (r) => live && setSnap((s) => (s ? { backfill: { ...s.backfill, items: r.backfill.items } } : s)),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [moved, id, setSnap]);
  if (!snap) return error ? <ErrorBox error={error} /> : <Loading what={`backfill ${id}`} />;
  const b = snap.backfill;
  const act = (name: 'pauseBackfill' | 'unpauseBackfill' | 'cancelBackfill') => action.run(() => gql(`mutation($id: Int!) { ${name}(id: $id) { id state } }`, { id })).then((ok) => ok && reload());
  const open = b.state === 'running' || b.state === 'paused';
  return (
    <section>
      <header class="page-head">
        <h1>
          <a href={href.backfills()}>Backfills</a> / #{b.id} of <a href={href.dag(b.dagId)}>{b.dagId}</a>
        </h1>
        <p>
          <span class="badge" data-state={b.state}>
            {b.state}
          </span>{' '}
          <span class="muted">
            {fmtTime(b.fromDate)} → {fmtTime(b.toDate)}, at most {b.maxActiveRuns} run(s) at once, reprocess {b.reprocessBehavior}
            {b.runBackwards ? ', newest first' : ''}
          </span>
        </p>
        {session.canOperate && open ? (
          <div class="actions">
            {b.isPaused ? (
              <button type="button" disabled={action.busy} onClick={() => void act('unpauseBackfill')}>
                Resume
              </button>
            ) : (
              <button type="button" disabled={action.busy} onClick={() => void act('pauseBackfill')}>
                Pause
              </button>
            )}
            <button type="button" disabled={action.busy} onClick={() => setCanceling(true)}>
              Cancel backfill…
            </button>
          </div>
        ) : null}
        <ErrorBox error={action.error ?? error} />
      </header>
      <Progress counts={b.counts} label="Backfill progress" />
      <h2>Dates</h2>
      <table class="list" aria-label="Backfill dates">
        <thead>
          <tr>
            <th scope="col">Logical date</th>
            <th scope="col">Status</th>
            <th scope="col">Run</th>
          </tr>
        </thead>
        <tbody>
          {b.items.map((i) => (
            <tr>
              <td>{fmtTime(i.logicalDate)}</td>
              <td>{i.status === 'skipped' ? `skipped: ${i.skipReason ?? ''}` : i.status}</td>
              <td>
                {i.runId ? (
                  <>
                    <a href={href.run(b.dagId, i.runId)}>{i.runId}</a> {i.runState ? <StateBadge state={i.runState} /> : null}
                  </>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {canceling ? (
        <Dialog title={`Cancel backfill #${b.id}?`} onClose={() => setCanceling(false)}>
          <p>No more dates start; runs already started finish on their own.</p>
          <div class="actions">
            <button type="button" class="primary" onClick={() => void act('cancelBackfill').then(() => setCanceling(false))}>
              Cancel backfill
            </button>
            <button type="button" onClick={() => setCanceling(false)}>
              Keep it
            </button>
          </div>
        </Dialog>
      ) : null}
    </section>
  );
}
