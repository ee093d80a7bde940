import { useState } from 'preact/hooks';
import { gql } from '../lib/api';
import { fmtSchedule, fmtTime } from '../lib/format';
import { href } from '../lib/router';
import { useSession } from '../lib/session';
import { stateGlyph, stateLabel } from '../lib/states';
import { ErrorBox, Field, Loading, useAction, useAsync } from '../lib/ui';

type DagRow = {
  dagId: string;
  description: string | null;
  isPaused: boolean;
  isActive: boolean;
  schedule: unknown;
  timezone: string;
  tags: string[];
  owner: string | null;
  nextDagrunLogicalDate: string | null;
  nextDagrunCreateAfter: string | null;
  recentRuns: { runId: string; state: string; logicalDate: string }[];
};

const PAGE = 50;
const DAGS = `query Dags($filter: DagFilter, $limit: Int!, $offset: Int!) {
  dags(filter: $filter, limit: $limit, offset: $offset) {
    totalEntries
    items { dagId description isPaused isActive schedule timezone tags owner nextDagrunLogicalDate nextDagrunCreateAfter
            recentRuns(limit: 10) { runId state logicalDate } }
  }
  importErrors(limit: 50) { totalEntries items { fileloc message updatedAt } }
}`;

export function DagsPage() {
  const session = useSession();
  const [prefix, setPrefix] = useState('');
  const [tag, setTag] = useState('');
  const [paused, setPaused] = useState<'all' | 'active' | 'paused'>('all');
  const [offset, setOffset] = useState(0);
  const filter = { dagIdPrefix: prefix || undefined, tag: tag || undefined, paused: paused === 'all' ? undefined : paused === 'paused' };
  const { data, error, loading, reload } = useAsync(
    () =>
      gql<{ dags: { totalEntries: number; items: DagRow[] }; importErrors: { totalEntries: number; items: { fileloc: string; message: string; updatedAt: string }[] } }>(
        DAGS,
        { filter, limit: PAGE, offset },
      ),
    [prefix, tag, paused, offset],
  );
  const toggle = useAction();
  const tags = [...new Set(data?.dags.items.flatMap((d) => d.tags) ?? [])].sort();

  return (
    <section>
      <h1>DAGs</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <Field label="DAG id starts with">
          <input type="search" name="search" value={prefix} onInput={(e) => (setPrefix(e.currentTarget.value), setOffset(0))} />
        </Field>
        <Field label="Tag">
          <input name="tag" list="dag-tags" value={tag} onInput={(e) => (setTag(e.currentTarget.value), setOffset(0))} />
          <datalist id="dag-tags">
            {tags.map((t) => (
              <option value={t} />
            ))}
          </datalist>
        </Field>
        <Field label="Show">
          <select name="paused" value={paused} onChange={(e) => (setPaused(e.currentTarget.value as typeof paused), setOffset(0))}>
            <option value="all">all DAGs</option>
            <option value="active">running (not paused)</option>
            <option value="paused">paused</option>
          </select>
        </Field>
      </form>
      <ErrorBox error={error ?? toggle.error} />
      {data?.importErrors.totalEntries ? (
        <details class="import-errors" open>
          <summary>
            {data.importErrors.totalEntries} DAG file(s) failed to import
          </summary>
          <ul>
            {data.importErrors.items.map((e) => (
              <li>
                <code>{e.fileloc}</code>: {e.message} <span class="muted">({fmtTime(e.updatedAt)})</span>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      {!data && loading ? <Loading what="DAGs" /> : null}
      {data ? (
        <>
          <table class="list" aria-label="DAGs">
            <thead>
              <tr>
                <th scope="col">Paused</th>
                <th scope="col">DAG</th>
                <th scope="col">Tags</th>
                <th scope="col">Schedule</th>
                <th scope="col">Next run</th>
                <th scope="col">Recent runs (newest first)</th>
              </tr>
            </thead>
            <tbody>
              {data.dags.items.map((d) => (
                <tr data-dag={d.dagId}>
                  <td>
                    {session.canOperate ? (
                      <input
                        type="checkbox"
                        role="switch"
                        aria-label={`Paused: ${d.dagId}`}
                        checked={d.isPaused}
                        disabled={toggle.busy}
                        onChange={() =>
                          void toggle
                            .run(() => gql(`mutation($d: ID!) { ${d.isPaused ? 'unpauseDag' : 'pauseDag'}(dagId: $d) { isPaused } }`, { d: d.dagId }))
                            .then(reload)
                        }
                      />
                    ) : (
                      <span>{d.isPaused ? 'paused' : 'active'}</span>
                    )}
                  </td>
                  <td>
                    <a href={href.dag(d.dagId)}>{d.dagId}</a>
                    {!d.isActive ? <span class="muted"> (inactive)</span> : null}
                    {d.description ? <div class="muted small">{d.description}</div> : null}
                  </td>
                  <td>
                    {d.tags.map((t) => (
                      <button type="button" class="tag" onClick={() => setTag(t)} aria-label={`Filter by tag ${t}`}>
                        {t}
                      </button>
                    ))}
                  </td>
                  <td>
                    <code>{fmtSchedule(d.schedule)}</code>
                    {d.timezone !== 'UTC' ? <span class="muted small"> {d.timezone}</span> : null}
                  </td>
                  <td>{d.isPaused ? <span class="muted">paused</span> : fmtTime(d.nextDagrunLogicalDate)}</td>
                  <td>
                    <span class="recent">
                      {d.recentRuns.map((r) => (
                        <a
                          href={href.run(d.dagId, r.runId)}
                          class={`dot s-${r.state}`}
                          title={`${r.runId}: ${stateLabel(r.state)}`}
                          aria-label={`run ${r.runId}: ${stateLabel(r.state)}`}
                        >
                          {stateGlyph(r.state)}
                        </a>
                      ))}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.dags.items.length === 0 ? <p class="muted">No DAG matches.</p> : null}
          <Pager total={data.dags.totalEntries} offset={offset} size={PAGE} onPage={setOffset} />
        </>
      ) : null}
    </section>
  );
}

export function Pager({ total, offset, size, onPage }: { total: number; offset: number; size: number; onPage: (o: number) => void }) {
  if (total <= size) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={offset === 0} onClick={() => onPage(Math.max(0, offset - size))}>
        Previous
      </button>
      <span>
        {offset + 1}–{Math.min(total, offset + size)} of {total}
      </span>
      <button type="button" disabled={offset + size >= total} onClick={() => onPage(offset + size)}>
        Next
      </button>
    </nav>
  );
}
