/**
 * The grid's data: runs (columns) × rows. A row is a task today; it is a list of task ids with a depth so that
 * task groups (a row folding its members' cells) and mapped tasks (a cell folding its map indexes) can be added
 * by building other rows and summarising more than one cell, without touching the grid's rendering.
 */

export type Cell = { state: string; tryNumber: number };
export type RunCol = {
  id: number;
  runId: string;
  state: string;
  logicalDate: string;
  runType: string;
  /** By task id; replaced (never mutated) when a task changes, so unchanged rows can skip re-rendering. */
  cells: Readonly<Record<string, Cell>>;
};
export type GridRow = { key: string; label: string; depth: number; taskIds: string[] };
export type TaskDef = { taskId: string; dependsOn?: string[] };

/** One row per task, upstream before downstream (document order among tasks that are ready together). */
export function rowsOf(tasks: TaskDef[]): GridRow[] {
  const placed = new Set<string>();
  const ids = new Set(tasks.map((t) => t.taskId));
  const rows: GridRow[] = [];
  let left = tasks;
  while (left.length) {
    const ready = left.filter((t) => (t.dependsOn ?? []).every((d) => placed.has(d) || !ids.has(d)));
    // A cycle cannot be registered; should one appear anyway, place the rest in document order.
    const batch = ready.length ? ready : left;
    for (const t of batch) {
      placed.add(t.taskId);
      rows.push({ key: t.taskId, label: t.taskId, depth: 0, taskIds: [t.taskId] });
    }
    left = left.filter((t) => !placed.has(t.taskId));
  }
  return rows;
}

/** Task ids that appear in runs but not in the current document (removed tasks) get rows too, at the end. */
export function withExtraTasks(rows: GridRow[], cols: RunCol[]): GridRow[] {
  const known = new Set(rows.flatMap((r) => r.taskIds));
  const extra = new Set<string>();
  for (const c of cols) for (const id of Object.keys(c.cells)) if (!known.has(id)) extra.add(id);
  return extra.size ? [...rows, ...[...extra].sort().map((id) => ({ key: id, label: id, depth: 0, taskIds: [id] }))] : rows;
}

/** Worst first: the state a folded cell (group or mapped task) shows for its members. */
const PRECEDENCE = ['failed', 'upstream_failed', 'up_for_retry', 'running', 'queued', 'scheduled', 'none', 'skipped', 'success', 'removed'];

export function cellOf(row: GridRow, col: RunCol): Cell | undefined {
  if (row.taskIds.length === 1) return col.cells[row.taskIds[0]!];
  const cells = row.taskIds.map((id) => col.cells[id]).filter((c): c is Cell => Boolean(c));
  if (!cells.length) return undefined;
  return cells.reduce((a, b) => (PRECEDENCE.indexOf(b.state) < PRECEDENCE.indexOf(a.state) ? b : a));
}

export type TiEvent = { taskId: string; state: string; tryNumber: number };
export type RunEvent = { runId: string; state: string; logicalDate: string; runType: string };

/** A task-instance event: its run's column with that one cell replaced. */
export function applyTiEvents(col: RunCol, events: TiEvent[]): RunCol {
  const cells = { ...col.cells };
  for (const e of events) cells[e.taskId] = { state: e.state, tryNumber: e.tryNumber };
  return { ...col, cells };
}

/** Columns oldest → newest logical date (the newest run at the right, next to the task names' far side). */
export function sortCols(cols: RunCol[]): RunCol[] {
  return [...cols].sort((a, b) => (a.logicalDate < b.logicalDate ? -1 : a.logicalDate > b.logicalDate ? 1 : a.id - b.id));
}
