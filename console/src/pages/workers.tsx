import { useEffect, useState } from 'preact/hooks';
import { gql } from '../lib/api';
import { fmtTime } from '../lib/format';
import { href } from '../lib/router';
import { ErrorBox, Loading, useAsync } from '../lib/ui';

type Held = { dagId: string; runId: string; taskId: string; mapIndex: number; tryNumber: number; queue: string; acquiredAt: string; heartbeatAt: string; expiresAt: string; cancelRequested: boolean };
type Worker = {
  workerId: string;
  hostname: string | null;
  queues: string[];
  taskTypes: string[];
  capacity: number;
  runningLeases: number;
  firstSeen: string;
  lastSeen: string;
  leases: Held[];
};

const WORKERS = `query { workers(limit: 200) { items { workerId hostname queues taskTypes capacity runningLeases firstSeen lastSeen
  leases { dagId runId taskId mapIndex tryNumber queue acquiredAt heartbeatAt expiresAt cancelRequested } } } }`;

/** How often the page reads the workers again while it is shown. */
export const WORKERS_EVERY_MS = 3_000;

/**
 * Workers seen on the lease API, with the task instances each holds now, read again every few seconds while the
 * page is visible. There is no event stream of workers or leases to subscribe to (the GraphQL subscriptions follow
 * runs, task instances, backfills and logs): what changes here is mostly polls and heartbeats (every lease's, every
 * WEFT_HEARTBEAT_INTERVAL_SEC), written without an event, so a stream would mostly carry "last seen" moving; one
 * read of the page's 200 rows every few seconds costs less. The
 * next read is planned only after the previous answer (never two at once), and none while the tab is hidden.
 */
export function WorkersPage() {
  const { data, error, loading, reload } = useAsync(() => gql<{ workers: { items: Worker[] } }>(WORKERS), []);
  const [readAt, setReadAt] = useState<Date | null>(null);
  useEffect(() => {
    if (loading) return;
    setReadAt(new Date());
    let timer = 0;
    const plan = () => {
      window.clearTimeout(timer);
      if (document.visibilityState === 'visible') timer = window.setTimeout(reload, WORKERS_EVERY_MS);
    };
    plan();
    document.addEventListener('visibilitychange', plan);
    return () => {
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', plan);
    };
  }, [loading, reload]);
  const held = data?.workers.items.flatMap((w) => w.leases.map((l) => ({ ...l, workerId: w.workerId }))) ?? [];
  return (
    <section>
      <header class="page-head">
        <h1>Workers</h1>
        <p class="muted" data-read-at={readAt?.toISOString()}>
          Live: read again every {WORKERS_EVERY_MS / 1000} s while shown{readAt ? ` (last ${readAt.toLocaleTimeString()})` : ''}
        </p>
      </header>
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
      {data && data.workers.items.length ? (
        <>
          <h2>Leases held now</h2>
          {held.length ? (
            <table class="list" aria-label="Leases held">
              <thead>
                <tr>
                  <th scope="col">Worker</th>
                  <th scope="col">Task instance</th>
                  <th scope="col">Try</th>
                  <th scope="col">Queue</th>
                  <th scope="col">Held since</th>
                  <th scope="col">Last heartbeat</th>
                  <th scope="col">Expires</th>
                </tr>
              </thead>
              <tbody>
                {held.map((l) => (
                  <tr data-lease={`${l.workerId}:${l.dagId}/${l.runId}/${l.taskId}${l.mapIndex >= 0 ? `/${l.mapIndex}` : ''}`}>
                    <td>{l.workerId}</td>
                    <td>
                      <a href={href.dag(l.dagId)}>{l.dagId}</a> / <a href={href.run(l.dagId, l.runId)}>{l.runId}</a> /{' '}
                      <a href={href.task(l.dagId, l.runId, l.taskId, l.mapIndex)}>{l.mapIndex >= 0 ? `${l.taskId} [${l.mapIndex}]` : l.taskId}</a>
                    </td>
                    <td>{l.tryNumber}</td>
                    <td>{l.queue}</td>
                    <td>{fmtTime(l.acquiredAt)}</td>
                    <td>{fmtTime(l.heartbeatAt)}</td>
                    <td>
                      {fmtTime(l.expiresAt)}
                      {l.cancelRequested ? <span class="muted"> (asked to stop)</span> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">No worker holds a lease now.</p>
          )}
        </>
      ) : null}
    </section>
  );
}
