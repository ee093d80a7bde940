import { memo } from 'preact/compat';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { fmtTime } from '../lib/format';
import { cellOf, mapCounts, MAX_INSTANCE_ROWS, type Cell, type GridRow, type RunCol } from '../lib/grid-model';
import { href } from '../lib/router';
import { stateGlyph, stateLabel } from '../lib/states';

/**
 * Runs × tasks. A task group is one row showing the worst state of its tasks, and a mapped task one row showing the
 * worst state of its instances with their counts; the button before the name unfolds them (the group's tasks, the
 * mapped task's instances as rows of their own). Plain DOM, one small link per cell (a 100 × 50 grid is 5,000 of them, which Preact renders in
 * well under the 1 s goal; docs/console.md has the measured figure): rows are memoised and a live event replaces
 * only its run's column, so an update re-renders the rows whose cells changed. Keyboard: one cell is in the tab
 * order; arrow keys, Home and End move between cells (a roving tabindex kept in the DOM, without re-rendering).
 */
export function Grid({ dagId, rows, cols, onToggle }: { dagId: string; rows: GridRow[]; cols: RunCol[]; onToggle: (key: string) => void }) {
  const table = useRef<HTMLTableElement>(null);
  useLayoutEffect(() => {
    // In the DOM, not yet laid out and painted.
    if (cols.length) performance.mark('weft:grid-commit');
  }, [rows, cols]);
  useEffect(() => {
    // Rendered and painted (effects run after the paint; one frame more to be sure): what the bench reads.
    if (cols.length) requestAnimationFrame(() => performance.mark('weft:grid-rendered', { detail: { runs: cols.length, rows: rows.length } }));
  }, [rows, cols]);

  const onKeyDown = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement;
    const r = Number(target.dataset.r);
    const c = Number(target.dataset.c);
    if (Number.isNaN(r) || Number.isNaN(c)) return;
    const moves: Record<string, [number, number]> = {
      ArrowUp: [r - 1, c],
      ArrowDown: [r + 1, c],
      ArrowLeft: [r, c - 1],
      ArrowRight: [r, c + 1],
      Home: [r, 0],
      End: [r, cols.length - 1],
    };
    const to = moves[e.key];
    if (!to) return;
    const next = table.current?.querySelector<HTMLElement>(`[data-r="${to[0]}"][data-c="${to[1]}"]`);
    if (!next) return;
    e.preventDefault();
    target.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  };

  if (!cols.length) return <p class="muted">No runs yet.</p>;
  return (
    <div class="grid-wrap">
      <table class="grid" ref={table} onKeyDown={onKeyDown} aria-label={`Task states of the last ${cols.length} runs`} data-runs={cols.length} data-tasks={rows.length}>
        <thead>
          <tr>
            <th scope="col" class="corner">
              Task \ run
            </th>
            {cols.map((col) => (
              <th scope="col" class="run-head" data-run={col.runId}>
                <a href={href.run(dagId, col.runId)} class={`run-state s-${col.state}`} title={`${col.runId} (${col.runType}, ${fmtTime(col.logicalDate)}): ${stateLabel(col.state)}`}>
                  <span aria-hidden="true">{stateGlyph(col.state)}</span>
                  <span class="sr-only">
                    run {col.runId}: {stateLabel(col.state)}
                  </span>
                </a>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, r) => (
            <Row key={row.key} dagId={dagId} row={row} r={r} cols={cols} cells={cols.map((col) => cellOf(row, col))} onToggle={onToggle} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

type RowProps = { dagId: string; row: GridRow; r: number; cols: RunCol[]; cells: (Cell | undefined)[]; onToggle: (key: string) => void };

function RowHead({ row, onToggle }: { row: GridRow; onToggle: (key: string) => void }) {
  const what = row.kind === 'group' ? `group ${row.label} (${row.taskIds.length} tasks)` : `the instances of ${row.label}`;
  return (
    <th scope="row" style={row.depth ? { paddingLeft: `${row.depth * 1.2 + 0.5}em` } : undefined} data-kind={row.kind}>
      {row.foldable ? (
        <button type="button" class="fold" aria-expanded={row.expanded ? 'true' : 'false'} aria-label={`${row.expanded ? 'Fold' : 'Unfold'} ${what}`} onClick={() => onToggle(row.key)}>
          <span aria-hidden="true">{row.expanded ? '▾' : '▸'}</span>
        </button>
      ) : null}
      {row.kind === 'group' ? <strong>{row.label}</strong> : row.label}
      {row.kind === 'task' && row.foldable ? (
        <span class="muted" title={row.instances && row.instances > MAX_INSTANCE_ROWS ? `the first ${MAX_INSTANCE_ROWS} are shown when unfolded` : undefined}>
          {' '}
          [{row.instances ?? 0}]
        </span>
      ) : null}
    </th>
  );
}

const Row = memo(
  function Row({ dagId, row, r, cols, cells, onToggle }: RowProps) {
    return (
      <tr data-task={row.key} data-kind={row.kind}>
        <RowHead row={row} onToggle={onToggle} />
        {cells.map((cell, c) => {
          const col = cols[c]!;
          const state = cell?.state ?? 'none';
          const counts = row.kind === 'task' && cell ? mapCounts(cell) : '';
          const link = cell
            ? href.task(dagId, col.runId, cell.taskId, cell.mapIndex)
            : row.kind === 'group'
              ? href.run(dagId, col.runId)
              : href.task(dagId, col.runId, row.taskIds[0]!, row.mapIndex ?? -1);
          const extra = row.kind === 'group' ? (cell ? `, worst ${cell.taskId}${cell.mapIndex >= 0 ? ` [${cell.mapIndex}]` : ''}` : '') : counts ? `; ${counts}` : '';
          return (
            <td>
              <a
                href={link}
                class={counts || row.kind === 'group' ? `cell s-${state} folded` : `cell s-${state}`}
                data-r={r}
                data-c={c}
                data-state={state}
                data-count={counts || undefined}
                title={counts || undefined}
                tabIndex={r === 0 && c === cols.length - 1 ? 0 : -1}
                aria-label={`${row.label} in ${col.runId}: ${stateLabel(state)}${cell && cell.tryNumber > 1 ? `, try ${cell.tryNumber}` : ''}${extra}`}
              >
                {stateGlyph(state)}
              </a>
            </td>
          );
        })}
      </tr>
    );
  },
  (a, b) => a.row === b.row && a.r === b.r && a.dagId === b.dagId && a.cells.length === b.cells.length && a.cells.every((c, i) => c === b.cells[i]) && a.cols.every((c, i) => c.runId === b.cols[i]?.runId),
);
