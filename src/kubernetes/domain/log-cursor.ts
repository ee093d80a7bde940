/**
 * Pod log lines read with `timestamps=true` start with the kubelet's RFC 3339 timestamp (nanoseconds, trailing zeros
 * trimmed). The launcher remembers the timestamp of the last line it copied (the pod's log-cursor annotation), asks
 * again from that second after a reconnect or a restart (`sinceTime` has a resolution of one second), and drops the
 * lines at or before the cursor, so the task log gets each line once.
 */

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Nanoseconds since the epoch, or null when `ts` is not an RFC 3339 timestamp. */
export function timestampNanos(ts: string): bigint | null {
  const m = TIMESTAMP.exec(ts);
  if (!m) return null;
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) return null;
  return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** One line of a timestamped log: its timestamp and text; a line without a timestamp keeps its whole text. */
export function splitTimestamp(line: string): { ts: string | null; text: string } {
  const space = line.indexOf(' ');
  const head = space < 0 ? line : line.slice(0, space);
  if (timestampNanos(head) === null) return { ts: null, text: line };
  return { ts: head, text: space < 0 ? '' : line.slice(space + 1) };
}

/** Whether a line stamped `ts` comes after the cursor (and so has not been copied yet). */
export function isAfterCursor(ts: string | null, cursor: string | null): boolean {
  if (cursor === null || ts === null) return true;
  const a = timestampNanos(ts);
  const b = timestampNanos(cursor);
  return a === null || b === null || a > b;
}

/** The `sinceTime` to resume from: the cursor's second (the API takes whole seconds), or undefined for everything. */
export function sinceTime(cursor: string | null): string | undefined {
  if (cursor === null) return undefined;
  const nanos = timestampNanos(cursor);
  if (nanos === null) return undefined;
  return `${new Date(Number(nanos / 1_000_000_000n) * 1000).toISOString().slice(0, 19)}Z`;
}
