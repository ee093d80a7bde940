/**
 * The grid's data: runs (columns) × rows. A row is a task, a task group (folding its members' cells into one) or
 * one instance of a mapped task (shown when the mapped task's row is unfolded). A mapped task's cell folds its
 * instances: the most relevant state among them (worst first) with counts.
 */

/** The state of one task instance, or the summary of a mapped task's instances (then `map` is set). */
export type Cell = {
  state: string;
  tryNumber: number;
  taskId: string;
  /** The instance the cell stands for (for a summary: the most relevant one, which its link opens). */
  mapIndex: number;
  map?: MapSummary;
};
export type MapSummary = {
  /** Instances counted (those not removed; the unexpanded placeholder once there are others). */
  total: number;
  counts: Readonly<Record<string, number>>;
  /** The highest map index seen + 1: how many instance rows the task needs. */
  span: number;
  /** Every instance seen, by map index (−1: the placeholder before expansion). Replaced, never mutated. */
  instances: Readonly<Record<number, Cell>>;
};
export type RunCol = {
  id: number;
  runId: string;
  state: string;
  logicalDate: string;
  runType: string;
  /** By task id; replaced (never mutated) when a task changes, so unchanged rows can skip re-rendering. */
  cells: Readonly<Record<string, Cell>>;
};
export type GridRow = {
  key: string;
  label: string;
  depth: number;
  kind: 'task' | 'group' | 'instance';
  /** A group's members; a task's or an instance's own id. */
  taskIds: string[];
  /** An instance row's map index. */
  mapIndex?: number;
  /** A group, or a mapped task: can be unfolded. */
  foldable?: boolean;
  expanded?: boolean;
  /** A mapped task's row: the most instances it has in the runs shown (its unfolded rows). */
  instances?: number;
};
export type TaskDef = { taskId: string; dependsOn?: string[]; group?: string; expand?: unknown };
export type GroupDef = { groupId: string; tooltip?: string };

/** Instance rows shown per unfolded mapped task (a run page lists them all). */
export const MAX_INSTANCE_ROWS = 200;

/** Tasks upstream before downstream (document order among tasks that are ready together). */
export function topoOrder<T extends TaskDef>(tasks: T[]): T[] {
  const placed = new Set<string>();
  const ids = new Set(tasks.map((t) => t.taskId));
  const out: T[] = [];
  let left = tasks;
  while (left.length) {
    const ready = left.filter((t) => (t.dependsOn ?? []).every((d) => placed.has(d) || !ids.has(d)));
    // A cycle cannot be registered; should one appear anyway, place the rest in document order.
    const batch = ready.length ? ready : left;
    for (const t of batch) {
      placed.add(t.taskId);
      out.push(t);
    }
    left = left.filter((t) => !placed.has(t.taskId));
  }
  return out;
}

export const groupKey = (groupId: string) => `group:${groupId}`;
export const isMapped = (t: TaskDef) => t.expand !== undefined && t.expand !== null;

/**
 * The rows: tasks upstream first; a group's row where its first member would be, its members under it when
 * unfolded; a mapped task's instance rows under it when unfolded (`instances` gives how many: the most any shown
 * run has). `expanded` holds the keys of unfolded rows (a group's `group:<id>`, a mapped task's id).
 */
export function rowsOf(tasks: TaskDef[], expanded: ReadonlySet<string> = new Set(), instances: Readonly<Record<string, number>> = {}): GridRow[] {
  const ordered = topoOrder(tasks);
  const members = new Map<string, TaskDef[]>();
  for (const t of ordered) if (t.group) members.set(t.group, [...(members.get(t.group) ?? []), t]);
  const rows: GridRow[] = [];
  const taskRows = (t: TaskDef, depth: number) => {
    const mapped = isMapped(t);
    const open = mapped && expanded.has(t.taskId);
    const n = instances[t.taskId] ?? 0;
    rows.push({ key: t.taskId, label: t.taskId, depth, kind: 'task', taskIds: [t.taskId], ...(mapped ? { foldable: true, expanded: open, instances: n } : {}) });
    if (open) {
      for (let i = 0; i < Math.min(n, MAX_INSTANCE_ROWS); i++) {
        rows.push({ key: `${t.taskId}[${i}]`, label: `${t.taskId} [${i}]`, depth: depth + 1, kind: 'instance', taskIds: [t.taskId], mapIndex: i });
      }
    }
  };
  const done = new Set<string>();
  for (const t of ordered) {
    if (!t.group) {
      taskRows(t, 0);
      continue;
    }
    if (done.has(t.group)) continue;
    done.add(t.group);
    const list = members.get(t.group)!;
    const open = expanded.has(groupKey(t.group));
    rows.push({ key: groupKey(t.group), label: t.group, depth: 0, kind: 'group', taskIds: list.map((m) => m.taskId), foldable: true, expanded: open });
    if (open) for (const m of list) taskRows(m, 1);
  }
  return rows;
}

/** The most instances each unfolded mapped task has in the runs shown: a string key too, so rows change only with it. */
export function instanceCounts(cols: RunCol[], taskIds: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of taskIds) {
    let n = 0;
    for (const c of cols) n = Math.max(n, c.cells[id]?.map?.span ?? 0);
    out[id] = n;
  }
  return out;
}

/** Task ids that appear in runs but not in the current document (removed tasks), sorted. */
export function extraTaskIds(tasks: TaskDef[], cols: RunCol[]): string[] {
  const known = new Set(tasks.map((t) => t.taskId));
  const extra = new Set<string>();
  for (const c of cols) for (const id of Object.keys(c.cells)) if (!known.has(id)) extra.add(id);
  return [...extra].sort();
}

/** Rows for removed tasks, at the end. */
export function withExtraTasks(rows: GridRow[], extra: string[]): GridRow[] {
  return extra.length ? [...rows, ...extra.map((id): GridRow => ({ key: id, label: id, depth: 0, kind: 'task', taskIds: [id] }))] : rows;
}

/** Worst first: the state a folded cell (group or mapped task) shows for its members. */
const PRECEDENCE = ['failed', 'upstream_failed', 'up_for_retry', 'running', 'queued', 'scheduled', 'none', 'skipped', 'success', 'removed'];
const rank = (state: string) => {
  const i = PRECEDENCE.indexOf(state);
  return i < 0 ? PRECEDENCE.length : i;
};
const worst = (cells: Cell[]) => cells.reduce((a, b) => (rank(b.state) < rank(a.state) ? b : a));

export function cellOf(row: GridRow, col: RunCol): Cell | undefined {
  if (row.kind === 'instance') return col.cells[row.taskIds[0]!]?.map?.instances[row.mapIndex!];
  if (row.taskIds.length === 1) return col.cells[row.taskIds[0]!];
  const cells = row.taskIds.map((id) => col.cells[id]).filter((c): c is Cell => Boolean(c));
  return cells.length ? worst(cells) : undefined;
}

/**
 * A mapped task's cell from its instances: once expanded, the instances 0…n−1 that are not removed (the
 * placeholder −1 is deleted by the expansion; one seen earlier is left out), else the placeholder (before the
 * expansion, or skipped/failed without one).
 */
export function summarise(instances: Readonly<Record<number, Cell>>): Cell {
  const all = Object.values(instances);
  const live = all.filter((c) => c.mapIndex >= 0 && c.state !== 'removed');
  const placeholder = instances[-1];
  const counted = live.length ? live : placeholder ? [placeholder] : all;
  const counts: Record<string, number> = {};
  for (const c of counted) counts[c.state] = (counts[c.state] ?? 0) + 1;
  const w = worst(counted);
  const span = all.reduce((n, c) => Math.max(n, c.mapIndex + 1), 0);
  return { state: w.state, tryNumber: w.tryNumber, taskId: w.taskId, mapIndex: w.mapIndex, map: { total: live.length, counts, span, instances } };
}

/** "12/50 success" and the other states' counts, for labels. */
export function mapCounts(cell: Cell): string {
  const m = cell.map;
  if (!m || !m.total) return '';
  const success = m.counts['success'] ?? 0;
  const others = Object.entries(m.counts)
    .filter(([s]) => s !== 'success')
    .map(([s, n]) => `${n} ${s.replace(/_/g, ' ')}`);
  return [`${success}/${m.total} success`, ...others].join(', ');
}

export type TiEvent = { taskId: string; state: string; tryNumber: number; mapIndex?: number | null };
export type RunEvent = { runId: string; state: string; logicalDate: string; runType: string };

/** One task instance's state into a run's cells (a new object only for its task). */
function put(cells: Record<string, Cell>, e: TiEvent): void {
  const mapIndex = e.mapIndex ?? -1;
  const cell: Cell = { state: e.state, tryNumber: e.tryNumber, taskId: e.taskId, mapIndex };
  const prev = cells[e.taskId];
  if (mapIndex === -1 && !prev?.map) {
    cells[e.taskId] = cell;
    return;
  }
  const instances = prev?.map ? prev.map.instances : prev ? { [prev.mapIndex]: prev } : {};
  cells[e.taskId] = summarise({ ...instances, [mapIndex]: cell });
}

/** Task-instance events: their run's column with those cells replaced. */
export function applyTiEvents(col: RunCol, events: TiEvent[]): RunCol {
  const cells = { ...col.cells };
  for (const e of events) put(cells, e);
  return { ...col, cells };
}

/** A run's cells from its task instances (a snapshot): each mapped task summarised once. */
export function cellsOf(tis: TiEvent[]): Record<string, Cell> {
  const cells: Record<string, Cell> = {};
  const mapped = new Map<string, Record<number, Cell>>();
  for (const t of tis) {
    const cell: Cell = { state: t.state, tryNumber: t.tryNumber, taskId: t.taskId, mapIndex: t.mapIndex ?? -1 };
    if (cell.mapIndex === -1) cells[t.taskId] = cell;
    else {
      const instances = mapped.get(t.taskId) ?? {};
      instances[cell.mapIndex] = cell;
      mapped.set(t.taskId, instances);
    }
  }
  for (const [taskId, instances] of mapped) {
    const placeholder = cells[taskId];
    cells[taskId] = summarise(placeholder ? { ...instances, [-1]: placeholder } : instances);
  }
  return cells;
}

/** Columns oldest → newest logical date (the newest run at the right, next to the task names' far side). */
export function sortCols(cols: RunCol[]): RunCol[] {
  return [...cols].sort((a, b) => (a.logicalDate < b.logicalDate ? -1 : a.logicalDate > b.logicalDate ? 1 : a.id - b.id));
}
