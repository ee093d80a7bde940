import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, gql } from './api';
import { follow } from './live';

export type LiveSource<P, E> = {
  /** The subscription; its cursor variable must be `$afterSequence`. */
  query: string;
  variables: Record<string, unknown>;
  /** Reads this source's stream position out of the positions answer. */
  position: (positions: P) => number;
  /** The event out of a subscription answer. */
  event: (data: unknown) => E & { sequence: number };
};

/**
 * The pattern every live page uses: read the streams' positions, then the snapshot, then follow each stream from
 * its position (an event numbered by then is already in the snapshot; anything later arrives). `apply` folds an
 * event into the current snapshot.
 */
export function useLiveSnapshot<S, P, E>(opts: {
  deps: unknown[];
  positions: string;
  snapshot: string;
  variables: Record<string, unknown>;
  sources: LiveSource<P, E>[];
  apply: (snap: S, event: E) => S;
}) {
  const [snap, setSnap] = useState<S | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const optsRef = useRef(opts);
  optsRef.current = opts;
  useEffect(() => {
    const o = optsRef.current;
    let closed = false;
    const unsubs: (() => void)[] = [];
    (async () => {
      const positions = await gql<P>(o.positions, o.variables);
      const s = await gql<S>(o.snapshot, o.variables);
      if (closed) return;
      setSnap(s);
      for (const src of o.sources) {
        unsubs.push(
          follow<unknown>(
            src.query,
            src.variables,
            { name: 'afterSequence', value: src.position(positions) },
            (d) => src.event(d).sequence,
            (d) => setSnap((cur) => (cur ? optsRef.current.apply(cur, src.event(d)) : cur)),
            (message) => !closed && setError(message),
          ),
        );
      }
    })().catch((err: unknown) => !closed && setError(describeError(err)));
    return () => {
      closed = true;
      unsubs.forEach((u) => u());
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...opts.deps, tick]);
  return { snap, error, setSnap, reload: () => setTick((t) => t + 1) };
}
