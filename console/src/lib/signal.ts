import { useEffect, useState } from 'preact/hooks';

/** A value that components can follow (a tiny store; the console needs no more than this). */
export type Signal<T> = { get(): T; set(v: T): void; subscribe(fn: (v: T) => void): () => void };

export function signal<T>(initial: T): Signal<T> {
  let value = initial;
  const subs = new Set<(v: T) => void>();
  return {
    get: () => value,
    set: (v) => {
      if (Object.is(v, value)) return;
      value = v;
      subs.forEach((fn) => fn(v));
    },
    subscribe: (fn) => {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
}

export function useSignal<T>(s: Signal<T>): T {
  const [v, setV] = useState(s.get());
  useEffect(() => {
    setV(s.get());
    return s.subscribe(setV);
  }, [s]);
  return v;
}
