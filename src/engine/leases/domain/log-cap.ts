/**
 * The per-try size cap of task logs (WEFT_TASK_LOG_MAX_BYTES_PER_TRY). Past the cap the oldest lines are dropped,
 * down to TRIM_TO of the cap so trimming happens seldom, and one marker line (stream MARKER_STREAM) stands where
 * they were, saying how much is gone in total.
 */
export const MARKER_STREAM = 'weft';
export const TRIM_TO = 0.9;

export type Dropped = { lines: number; bytes: number };

export function markerLine(dropped: Dropped, capBytes: number): string {
  return `[weft] ${dropped.lines} earlier line(s), ${dropped.bytes} bytes, dropped: this try's log is over ` +
    `WEFT_TASK_LOG_MAX_BYTES_PER_TRY (${capBytes} bytes)`;
}

/** What an earlier marker says was dropped (zero for anything that is not a marker). */
export function parseMarker(line: string | undefined): Dropped {
  const m = line?.match(/^\[weft\] (\d+) earlier line\(s\), (\d+) bytes, dropped/);
  return m ? { lines: Number(m[1]), bytes: Number(m[2]) } : { lines: 0, bytes: 0 };
}

/** Bytes the lines of one append take (what the cap counts: the line text in UTF-8). */
export function logBytes(lines: { line: string }[]): number {
  let n = 0;
  for (const l of lines) n += Buffer.byteLength(l.line);
  return n;
}

/**
 * Decides when an API replica measures a try's stored log size: after every `threshold` bytes it has appended
 * to that try since it last measured (a tenth of the cap), so the exact (and costlier) size query runs seldom
 * and the cap is exceeded by at most about a tenth of it per replica. Bounded: the oldest entries are forgotten.
 */
export class LogCapTracker {
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly capBytes: number,
    private readonly maxEntries = 10_000,
  ) {}

  get threshold(): number {
    return Math.max(1, Math.ceil(this.capBytes / 10));
  }

  /** Records an append; true when the try's size should be measured now (the count restarts). */
  add(key: string, bytes: number): boolean {
    const total = (this.pending.get(key) ?? 0) + bytes;
    this.pending.delete(key);
    if (total >= this.threshold) return true;
    this.pending.set(key, total);
    if (this.pending.size > this.maxEntries) this.pending.delete(this.pending.keys().next().value!);
    return false;
  }
}
