import { useEffect, useState } from 'preact/hooks';

/**
 * Routes live in the location hash (`#/dags/etl/runs/r1`): the service serves one page at `/` and needs no
 * fallback route for the console's paths, and every view has a link that can be shared or reloaded.
 */
export type Route =
  | { page: 'dags' }
  | { page: 'dag'; dagId: string; tab: 'grid' | 'graph' | 'code' }
  | { page: 'run'; dagId: string; runId: string }
  | { page: 'task'; dagId: string; runId: string; taskId: string; mapIndex: number }
  | { page: 'backfills' }
  | { page: 'backfill'; id: number }
  | { page: 'pools' }
  | { page: 'sla' }
  | { page: 'workers' }
  | { page: 'audit' }
  | { page: 'keys' }
  | { page: 'missing'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  let parts: string[];
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    // Malformed percent-encoding (`#/dags/%E0%A4%A`, from a hand-edited or hostile link): decodeURIComponent throws
    // URIError, which would stop the whole console from rendering. It is a page that does not exist.
    return { page: 'missing', path };
  }
  const [a, b, c, d, e, f, g] = parts;
  if (parts.length === 0) return { page: 'dags' };
  if (a === 'dags') {
    if (!b) return { page: 'dags' };
    if (!c) return { page: 'dag', dagId: b, tab: 'grid' };
    if ((c === 'graph' || c === 'code' || c === 'grid') && parts.length === 3) return { page: 'dag', dagId: b, tab: c };
    if (c === 'runs' && d && !e) return { page: 'run', dagId: b, runId: d };
    if (c === 'runs' && d && e === 'tasks' && f && parts.length === 6) return { page: 'task', dagId: b, runId: d, taskId: f, mapIndex: -1 };
    // One instance of a mapped task: …/tasks/<taskId>/<mapIndex>.
    if (c === 'runs' && d && e === 'tasks' && f && g && /^\d{1,9}$/.test(g) && parts.length === 7) return { page: 'task', dagId: b, runId: d, taskId: f, mapIndex: Number(g) };
  }
  if (a === 'backfills' && !b) return { page: 'backfills' };
  if (a === 'backfills' && b && /^\d+$/.test(b) && !c) return { page: 'backfill', id: Number(b) };
  if (parts.length === 1 && (a === 'pools' || a === 'sla' || a === 'workers' || a === 'audit' || a === 'keys')) return { page: a };
  return { page: 'missing', path };
}

const enc = encodeURIComponent;
export const href = {
  dags: () => '#/dags',
  dag: (dagId: string, tab: 'grid' | 'graph' | 'code' = 'grid') => (tab === 'grid' ? `#/dags/${enc(dagId)}` : `#/dags/${enc(dagId)}/${tab}`),
  run: (dagId: string, runId: string) => `#/dags/${enc(dagId)}/runs/${enc(runId)}`,
  task: (dagId: string, runId: string, taskId: string, mapIndex = -1) => `#/dags/${enc(dagId)}/runs/${enc(runId)}/tasks/${enc(taskId)}${mapIndex >= 0 ? `/${mapIndex}` : ''}`,
  backfills: () => '#/backfills',
  backfill: (id: number) => `#/backfills/${id}`,
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
