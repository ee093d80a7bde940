import { memo } from 'preact/compat';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { fmtTime } from '../lib/format';
import { cellOf, type Cell, type GridRow, type RunCol } from '../lib/grid-model';
import { href } from '../lib/router';
import { stateGlyph, stateLabel } from '../lib/states';

/**
 * Runs × tasks. Plain DOM, one small link per cell (a 100 × 50 grid is 5,000 of them, which Preact renders in
 * well under the 1 s goal; docs/console.md has the measured figure): rows are memoised and a live event replaces
 * only its run's column, so an update re-renders the rows whose cells changed. Keyboard: one cell is in the tab
 * order; arrow keys, Home and End move between cells (a roving tabindex kept in the DOM, without re-rendering).
 */
export function Grid({ dagId, rows, cols }: { dagId: string; rows: GridRow[]; cols: RunCol[] }) {
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
            <Row key={row.key} dagId={dagId} row={row} r={r} cols={cols} cells={cols.map((col) => cellOf(row, col))} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

type RowProps = { dagId: string; row: GridRow; r: number; cols: RunCol[]; cells: (Cell | undefined)[] };

const Row = memo(
  function Row({ dagId, row, r, cols, cells }: RowProps) {
    return (
      <tr data-task={row.key}>
        <th scope="row" style={row.depth ? { paddingLeft: `${row.depth}em` } : undefined}>
          {row.label}
        </th>
        {cells.map((cell, c) => {
          const col = cols[c]!;
          const state = cell?.state ?? 'none';
          return (
            <td>
              <a
                href={href.task(dagId, col.runId, row.taskIds[0]!)}
                class={`cell s-${state}`}
                data-r={r}
                data-c={c}
                data-state={state}
                tabIndex={r === 0 && c === cols.length - 1 ? 0 : -1}
                aria-label={`${row.label} in ${col.runId}: ${stateLabel(state)}${cell && cell.tryNumber > 1 ? `, try ${cell.tryNumber}` : ''}`}
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
