import { Graph, layout } from '@dagrejs/dagre';
import { useMemo } from 'preact/hooks';
import type { RunCol, TaskDef } from '../lib/grid-model';
import { href } from '../lib/router';
import { stateGlyph, stateLabel } from '../lib/states';

const NODE_W = 180;
const NODE_H = 36;

/**
 * The dependency graph, laid out by dagre (layered, left to right, crossings reduced), drawn as SVG; each task
 * shows its state in the chosen run as colour, glyph and text, and links to that task instance.
 */
export function DagGraph({ dagId, tasks, run }: { dagId: string; tasks: TaskDef[]; run: RunCol | null }) {
  const laid = useMemo(() => {
    const g = new Graph();
    g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 48, marginx: 8, marginy: 8 });
    g.setDefaultEdgeLabel(() => ({}));
    const ids = new Set(tasks.map((t) => t.taskId));
    for (const t of tasks) g.setNode(t.taskId, { width: NODE_W, height: NODE_H });
    for (const t of tasks) for (const d of t.dependsOn ?? []) if (ids.has(d)) g.setEdge(d, t.taskId);
    layout(g);
    const { width = 0, height = 0 } = g.graph();
    return {
      width,
      height,
      nodes: g.nodes().map((id) => ({ id, ...(g.node(id) as { x: number; y: number }) })),
      edges: g.edges().map((e) => ({ key: `${e.v}->${e.w}`, points: (g.edge(e) as { points: { x: number; y: number }[] }).points })),
    };
  }, [tasks]);

  return (
    <svg class="dag-graph" width={laid.width} height={laid.height} viewBox={`0 0 ${laid.width} ${laid.height}`} role="group" aria-label="Task dependencies">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" class="edge-head" />
        </marker>
      </defs>
      {laid.edges.map((e) => (
        <polyline key={e.key} class="edge" points={e.points.map((p) => `${p.x},${p.y}`).join(' ')} marker-end="url(#arrow)" />
      ))}
      {laid.nodes.map((n) => {
        const state = run?.cells[n.id]?.state ?? 'none';
        const label = `${n.id}: ${stateLabel(state)}`;
        const box = (
          <g transform={`translate(${n.x - NODE_W / 2},${n.y - NODE_H / 2})`} class={`node s-${state}`} data-task={n.id} data-state={state}>
            <rect width={NODE_W} height={NODE_H} rx="6" />
            <text x="10" y={NODE_H / 2 + 5}>
              {stateGlyph(state)} {n.id.length > 20 ? `${n.id.slice(0, 19)}…` : n.id}
            </text>
            <title>{label}</title>
          </g>
        );
        return run ? (
          <a key={n.id} href={href.task(dagId, run.runId, n.id)} aria-label={label}>
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
