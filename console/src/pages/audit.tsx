import { useState } from 'preact/hooks';
import { rest } from '../lib/api';
import { fmtTime } from '../lib/format';
import { ErrorBox, Field, Loading, useAsync } from '../lib/ui';
import { Pager } from './dags';

type Entry = { id: string; at: string; actor: string | null; action: string; target: string | null; details: Record<string, unknown> };
const PAGE = 100;

/** The audit log (admins; REST: GraphQL does not carry it). */
export function AuditPage() {
  const [offset, setOffset] = useState(0);
  const [action, setAction] = useState('');
  const { data, error } = useAsync(
    () => rest<{ totalEntries: number; items: Entry[] }>('GET', `/auditLog?limit=${PAGE}&offset=${offset}${action ? `&action=${encodeURIComponent(action)}` : ''}`),
    [offset, action],
  );
  return (
    <section>
      <h1>Audit log</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <Field label="Action">
          <input name="action" value={action} onChange={(e) => (setAction(e.currentTarget.value.trim()), setOffset(0))} placeholder="e.g. clear" />
        </Field>
      </form>
      <ErrorBox error={error} />
      {!data ? <Loading what="the audit log" /> : null}
      {data ? (
        <>
          <table class="list" aria-label="Audit log">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((e) => (
                <tr>
                  <td>{fmtTime(e.at)}</td>
                  <td>{e.actor ?? '—'}</td>
                  <td>{e.action}</td>
                  <td>{e.target ?? '—'}</td>
                  <td>
                    <code class="small">{JSON.stringify(e.details)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager total={data.totalEntries} offset={offset} size={PAGE} onPage={setOffset} />
        </>
      ) : null}
    </section>
  );
}
