import { Graph, layout } from '@dagrejs/dagre';
import { useMemo } from 'preact/hooks';
import { cellOf, groupKey, mapCounts, type Cell, type GridRow, type RunCol, type TaskDef } from '../lib/grid-model';
import { href } from '../lib/router';
import { stateGlyph, stateLabel } from '../lib/states';

const NODE_W = 180;
const NODE_H = 36;
const CLUSTER_HEAD = 22;

type Node = { id: string; x: number; y: number; kind: 'task' | 'group'; taskIds: string[]; label: string };
type Cluster = { id: string; x: number; y: number; width: number; height: number; label: string };

/**
 * The dependency graph, laid out by dagre (layered, left to right, crossings reduced), drawn as SVG; each task
 * shows its state in the chosen run as colour, glyph and text, and links to that task instance. A folded task group
 * is one node (the worst state of its tasks; edges to and from its tasks meet it), a button that unfolds it; an
 * unfolded group is a box around its tasks whose title folds it again (the same fold state as the grid's). A mapped
 * task's node shows the worst state of its instances and their counts.
 */
export function DagGraph({ dagId, tasks, run, expanded, onToggle }: { dagId: string; tasks: TaskDef[]; run: RunCol | null; expanded: ReadonlySet<string>; onToggle: (key: string) => void }) {
  const laid = useMemo(() => {
    const g = new Graph({ compound: true });
    g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 48, marginx: 8, marginy: 8 });
    g.setDefaultEdgeLabel(() => ({}));
    const nodeOf = new Map<string, string>();
    const members = new Map<string, string[]>();
    for (const t of tasks) {
      if (t.group) members.set(t.group, [...(members.get(t.group) ?? []), t.taskId]);
      nodeOf.set(t.taskId, t.group && !expanded.has(groupKey(t.group)) ? groupKey(t.group) : t.taskId);
    }
    const info = new Map<string, Omit<Node, 'x' | 'y'>>();
    for (const t of tasks) {
      const id = nodeOf.get(t.taskId)!;
      if (id !== t.taskId) {
        if (!info.has(id)) info.set(id, { id, kind: 'group', taskIds: members.get(t.group!)!, label: t.group! });
      } else info.set(id, { id, kind: 'task', taskIds: [t.taskId], label: t.taskId });
      if (!g.hasNode(id)) g.setNode(id, { width: NODE_W, height: NODE_H });
      if (id === t.taskId && t.group) {
        const cluster = `cluster:${t.group}`;
        if (!g.hasNode(cluster)) g.setNode(cluster, { label: t.group, paddingTop: CLUSTER_HEAD });
        g.setParent(id, cluster);
      }
    }
    for (const t of tasks) {
      for (const d of t.dependsOn ?? []) {
        const from = nodeOf.get(d);
        const to = nodeOf.get(t.taskId)!;
        if (from && from !== to) g.setEdge(from, to);
      }
    }
    layout(g);
    const { width = 0, height = 0 } = g.graph();
    const nodes: Node[] = [];
    const clusters: Cluster[] = [];
    for (const id of g.nodes()) {
      const n = g.node(id) as { x: number; y: number; width: number; height: number };
      if (id.startsWith('cluster:')) clusters.push({ id: id.slice('cluster:'.length), x: n.x, y: n.y, width: n.width, height: n.height, label: id.slice('cluster:'.length) });
      else nodes.push({ ...info.get(id)!, x: n.x, y: n.y });
    }
    return {
      width,
      height,
      nodes,
      clusters,
      edges: g.edges().map((e) => ({ key: `${e.v}->${e.w}`, points: (g.edge(e) as { points: { x: number; y: number }[] }).points })),
    };
  }, [tasks, expanded]);

  const toggleKeys = (key: string) => (e: KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onToggle(key);
    }
  };

  return (
    <svg class="dag-graph" width={laid.width} height={laid.height} viewBox={`0 0 ${laid.width} ${laid.height}`} role="group" aria-label="Task dependencies">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" class="edge-head" />
        </marker>
      </defs>
      {laid.clusters.map((c) => (
        <g key={`cluster:${c.id}`} class="cluster" data-group={c.id} transform={`translate(${c.x - c.width / 2},${c.y - c.height / 2})`}>
          <rect width={c.width} height={c.height} rx="8" />
          <g class="cluster-head" role="button" tabindex={0} aria-expanded="true" aria-label={`Fold group ${c.label}`} onClick={() => onToggle(groupKey(c.id))} onKeyDown={toggleKeys(groupKey(c.id))}>
            <text x="8" y="15">▾ {c.label}</text>
          </g>
        </g>
      ))}
      {laid.edges.map((e) => (
        <polyline key={e.key} class="edge" points={e.points.map((p) => `${p.x},${p.y}`).join(' ')} marker-end="url(#arrow)" />
      ))}
      {laid.nodes.map((n) => {
        const row: GridRow = { key: n.id, label: n.label, depth: 0, kind: n.kind, taskIds: n.taskIds };
        const cell: Cell | undefined = run ? cellOf(row, run) : undefined;
        const state = cell?.state ?? 'none';
        const counts = n.kind === 'task' && cell ? mapCounts(cell) : '';
        const name = n.kind === 'group' ? `▸ ${n.label} (${n.taskIds.length})` : n.label;
        const label = n.kind === 'group' ? `group ${n.label} (${n.taskIds.length} tasks): ${stateLabel(state)}` : `${n.label}: ${stateLabel(state)}${counts ? `; ${counts}` : ''}`;
        const box = (
          <g transform={`translate(${n.x - NODE_W / 2},${n.y - NODE_H / 2})`} class={`node s-${state}${n.kind === 'group' || counts ? ' folded' : ''}`} data-task={n.kind === 'task' ? n.id : undefined} data-group={n.kind === 'group' ? n.label : undefined} data-state={state}>
            <rect width={NODE_W} height={NODE_H} rx="6" />
            <text x="10" y={counts ? NODE_H / 2 - 1 : NODE_H / 2 + 5}>
              {stateGlyph(state)} {name.length > 20 ? `${name.slice(0, 19)}…` : name}
            </text>
            {counts ? (
              <text x="10" y={NODE_H / 2 + 12} class="node-counts">
                {counts.length > 26 ? `${counts.slice(0, 25)}…` : counts}
              </text>
            ) : null}
            <title>{label}</title>
          </g>
        );
        if (n.kind === 'group') {
          return (
            <g key={n.id} role="button" tabindex={0} aria-expanded="false" aria-label={`Unfold ${label}`} onClick={() => onToggle(n.id)} onKeyDown={toggleKeys(n.id)}>
              {box}
            </g>
          );
        }
        return run ? (
          <a key={n.id} href={href.task(dagId, run.runId, cell?.taskId ?? n.id, cell?.mapIndex ?? -1)} aria-label={label}>
            {box}
          </a>
        ) : (
          <g key={n.id} aria-label={label} role="img">
            {box}
          </g>
        );
      })}
    </svg>
  );
}
