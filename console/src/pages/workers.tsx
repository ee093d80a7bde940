import { gql } from '../lib/api';
import { fmtTime } from '../lib/format';
import { ErrorBox, Loading, useAsync } from '../lib/ui';

type Worker = { workerId: string; hostname: string | null; queues: string[]; taskTypes: string[]; capacity: number; runningLeases: number; firstSeen: string; lastSeen: string };

/** Workers seen on the lease API, with the leases each holds now. */
export function WorkersPage() {
  const { data, error } = useAsync(() => gql<{ workers: { items: Worker[] } }>(`query { workers(limit: 200) { items { workerId hostname queues taskTypes capacity runningLeases firstSeen lastSeen } } }`), []);
  return (
    <section>
      <h1>Workers</h1>
      <ErrorBox error={error} />
      {!data ? <Loading what="workers" /> : null}
      {data ? (
        data.workers.items.length ? (
          <table class="list" aria-label="Workers">
            <thead>
              <tr>
                <th scope="col">Worker</th>
                <th scope="col">Host</th>
                <th scope="col">Queues</th>
                <th scope="col">Task types</th>
                <th scope="col">Leases held / capacity</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {data.workers.items.map((w) => (
                <tr data-worker={w.workerId}>
                  <td>{w.workerId}</td>
                  <td>{w.hostname ?? '—'}</td>
                  <td>{w.queues.join(', ') || 'any'}</td>
                  <td>{w.taskTypes.join(', ') || 'any'}</td>
                  <td>
                    <meter min={0} max={Math.max(1, w.capacity)} value={w.runningLeases} aria-label={`${w.workerId}: ${w.runningLeases} of ${w.capacity}`} /> {w.runningLeases} / {w.capacity}
                  </td>
                  <td>{fmtTime(w.lastSeen)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">No worker has asked for work yet.</p>
        )
      ) : null}
    </section>
  );
}
