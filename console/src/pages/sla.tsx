import { gql, rest } from '../lib/api';
import { fmtTime } from '../lib/format';
import { href } from '../lib/router';
import { ErrorBox, Loading, useAsync } from '../lib/ui';

type Miss = { id: number; dagId: string; runId: string; taskId: string; logicalDate: string; deadline: string; detectedAt: string; deliveries: { channel: string; state: string; attempts: number; lastError: string | null }[] };
type Delivery = { id: number; kind: string; dagId: string; channel: string; state: string; attempts: number; lastError: string | null; deliveredAt: string | null; createdAt: string };

/** SLA misses (GraphQL) and every alert delivery with its outcome (REST: GraphQL does not list deliveries). */
export function SlaPage() {
  const misses = useAsync(() => gql<{ slaMisses: { totalEntries: number; items: Miss[] } }>(`query { slaMisses(limit: 100) { totalEntries items { id dagId runId taskId logicalDate deadline detectedAt deliveries { channel state attempts lastError } } } }`), []);
  const deliveries = useAsync(() => rest<{ totalEntries: number; items: Delivery[] }>('GET', '/alertDeliveries?limit=100'), []);
  return (
    <section>
      <h1>SLA misses and alerts</h1>
      <h2>SLA misses</h2>
      <ErrorBox error={misses.error} />
      {!misses.data ? <Loading what="SLA misses" /> : null}
      {misses.data ? (
        misses.data.slaMisses.items.length ? (
          <table class="list" aria-label="SLA misses">
            <thead>
              <tr>
                <th scope="col">Task instance</th>
                <th scope="col">Deadline</th>
                <th scope="col">Detected</th>
                <th scope="col">Alerts</th>
              </tr>
            </thead>
            <tbody>
              {misses.data.slaMisses.items.map((m) => (
                <tr>
                  <td>
                    <a href={href.task(m.dagId, m.runId, m.taskId)}>
                      {m.dagId} / {m.runId} / {m.taskId}
                    </a>
                  </td>
                  <td>{fmtTime(m.deadline)}</td>
                  <td>{fmtTime(m.detectedAt)}</td>
                  <td>{m.deliveries.map((d) => `${d.channel}: ${d.state}${d.lastError ? ` (${d.lastError})` : ''}`).join(', ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">No SLA misses.</p>
        )
      ) : null}
      <h2>Alert deliveries</h2>
      <ErrorBox error={deliveries.error} />
      {deliveries.data ? (
        deliveries.data.items.length ? (
          <table class="list" aria-label="Alert deliveries">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Kind</th>
                <th scope="col">DAG</th>
                <th scope="col">Channel</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data.items.map((d) => (
                <tr>
                  <td>{fmtTime(d.createdAt)}</td>
                  <td>{d.kind}</td>
                  <td>
                    <a href={href.dag(d.dagId)}>{d.dagId}</a>
                  </td>
                  <td>{d.channel}</td>
                  <td>
                    {d.state} after {d.attempts} attempt(s){d.lastError ? `: ${d.lastError}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">No alerts sent.</p>
        )
      ) : null}
    </section>
  );
}
