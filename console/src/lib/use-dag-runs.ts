import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, gql } from './api';
import { applyTiEvents, cellsOf, sortCols, type GroupDef, type RunCol, type RunEvent, type TaskDef, type TiEvent } from './grid-model';
import { follow } from './live';

export type DagInfo = {
  dagId: string;
  description: string | null;
  isPaused: boolean;
  schedule: unknown;
  timezone: string;
  tags: string[];
  latestVersion: number;
  nextDagrunLogicalDate: string | null;
  document: { tasks?: (TaskDef & { type?: string })[]; groups?: GroupDef[] } & Record<string, unknown>;
};

const RUN_FIELDS = 'id runId state logicalDate runType taskInstances { taskId mapIndex state tryNumber }';

const POSITIONS = `query Positions($d: ID!, $limit: Int!) {
  dag(dagId: $d) { runEventSequence }
  dagRuns(dagId: $d, limit: $limit) { items { runId taskEventSequence } }
}`;
const SNAPSHOT = `query Grid($d: ID!, $limit: Int!) {
  dag(dagId: $d) { dagId description isPaused schedule timezone tags latestVersion nextDagrunLogicalDate document }
  dagRuns(dagId: $d, limit: $limit) { items { ${RUN_FIELDS} } }
}`;
const ONE_RUN = `query Run($d: ID!, $r: String!) { dagRun(dagId: $d, runId: $r) { ${RUN_FIELDS} } }`;
const RUN_EVENTS = `subscription Runs($d: ID!, $afterSequence: Int) {
  dagRunStateChanged(dagId: $d, afterSequence: $afterSequence) { sequence runId state logicalDate runType }
}`;
const TI_EVENTS = `subscription Tis($d: ID!, $r: String!, $afterSequence: Int) {
  taskInstanceStateChanged(dagId: $d, runId: $r, afterSequence: $afterSequence) { sequence taskId mapIndex state tryNumber }
}`;

type RawRun = { id: number; runId: string; state: string; logicalDate: string; runType: string; taskInstances: TiEvent[] };

const toCol = (r: RawRun): RunCol => ({
  id: r.id,
  runId: r.runId,
  state: r.state,
  logicalDate: r.logicalDate,
  runType: r.runType,
  cells: cellsOf(r.taskInstances),
});

/**
 * A DAG with its newest `limit` runs and their task states, kept live: run events add and update columns, each
 * shown run's task events update its cells. Positions are read before the snapshot and the subscriptions start
 * there, so no change falls between the two (docs/console.md). Events are applied once per animation frame.
 */
export function useDagRuns(dagId: string, limit: number) {
  const [dag, setDag] = useState<DagInfo | null>(null);
  const [cols, setCols] = useState<RunCol[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [liveError, setLiveError] = useState<string | null>(null);
  const colsRef = useRef<RunCol[]>([]);

  useEffect(() => {
    let closed = false;
    const unsubs = new Map<string, () => void>();
    const pending: { runs: RunEvent[]; tis: Map<string, TiEvent[]> } = { runs: [], tis: new Map() };
    /** The latest run state each run event said: it wins over a snapshot fetched around the same time. */
    const runStates = new Map<string, string>();
    let frame = 0;
    const publish = (next: RunCol[]) => {
      colsRef.current = next;
      setCols(next);
    };
    const flush = () => {
      frame = 0;
      if (closed) return;
      let next = colsRef.current;
      if (pending.tis.size) {
        next = next.map((c) => {
          const evs = pending.tis.get(c.runId);
          return evs ? applyTiEvents(c, evs) : c;
        });
        pending.tis.clear();
      }
      for (const e of pending.runs) next = next.map((c) => (c.runId === e.runId ? { ...c, state: e.state } : c));
      pending.runs = [];
      publish(next);
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(flush);
    };
    const followRun = (runId: string, after: number) => {
      unsubs.set(
        runId,
        follow<{ taskInstanceStateChanged: TiEvent & { sequence: number } }>(
          TI_EVENTS,
          { d: dagId, r: runId },
          { name: 'afterSequence', value: after },
          (d) => d.taskInstanceStateChanged.sequence,
          (d) => {
            const list = pending.tis.get(runId) ?? [];
            list.push(d.taskInstanceStateChanged);
            pending.tis.set(runId, list);
            schedule();
          },
          setLiveError,
        ),
      );
    };
    const addRun = async (runId: string) => {
      // A run created after the snapshot: its stream is new, so it is followed from its first event.
      const { dagRun } = await gql<{ dagRun: RawRun }>(ONE_RUN, { d: dagId, r: runId });
      if (closed || colsRef.current.some((c) => c.runId === runId)) return;
      followRun(runId, 0);
      const col = toCol(dagRun);
      let next = sortCols([...colsRef.current, { ...col, state: runStates.get(runId) ?? col.state }]);
      while (next.length > limit) {
        const dropped = next[0]!;
        unsubs.get(dropped.runId)?.();
        unsubs.delete(dropped.runId);
        next = next.slice(1);
      }
      publish(next);
    };

    (async () => {
      const pos = await gql<{ dag: { runEventSequence: number }; dagRuns: { items: { runId: string; taskEventSequence: number }[] } }>(POSITIONS, { d: dagId, limit });
      const snap = await gql<{ dag: DagInfo; dagRuns: { items: RawRun[] } }>(SNAPSHOT, { d: dagId, limit });
      if (closed) return;
      performance.mark('weft:grid-data');
      setDag(snap.dag);
      const at = new Map(pos.dagRuns.items.map((r) => [r.runId, r.taskEventSequence]));
      publish(sortCols(snap.dagRuns.items.map(toCol)));
      for (const r of snap.dagRuns.items) followRun(r.runId, at.get(r.runId) ?? 0);
      unsubs.set(
        '\u0000runs',
        follow<{ dagRunStateChanged: RunEvent & { sequence: number } }>(
          RUN_EVENTS,
          { d: dagId },
          { name: 'afterSequence', value: pos.dag.runEventSequence },
          (d) => d.dagRunStateChanged.sequence,
          (d) => {
            const e = d.dagRunStateChanged;
            runStates.set(e.runId, e.state);
            if (colsRef.current.some((c) => c.runId === e.runId)) {
              pending.runs.push(e);
              schedule();
            } else {
              addRun(e.runId).catch((err: unknown) => setLiveError(describeError(err)));
            }
          },
          setLiveError,
        ),
      );
    })().catch((err: unknown) => !closed && setError(describeError(err)));

    return () => {
      closed = true;
      if (frame) cancelAnimationFrame(frame);
      unsubs.forEach((u) => u());
    };
  }, [dagId, limit]);

  return { dag, cols, error, liveError, setDag };
}
