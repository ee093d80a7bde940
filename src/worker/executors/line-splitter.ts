const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Splits a byte stream into lines. Memory stays bounded however long a line is: only its first `keepBytes` bytes are
 * held, and `onLine` receives that head together with the line's full length (a trailing CR of a CRLF is dropped).
 * Bytes are decoded only per line, so a multi-byte character split across chunks stays intact.
 */
export class LineSplitter {
  private head: Buffer[] = [];
  private headBytes = 0;
  private totalBytes = 0;
  private pending = false;

  constructor(
    private readonly keepBytes: number,
    private readonly onLine: (head: Buffer, totalBytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start <= chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      this.append(chunk.subarray(start, end));
      if (newline === -1) return;
      this.flush();
      start = newline + 1;
    }
  }

  /** Emits a last line that had no newline. */
  end(): void {
    if (this.pending) this.flush();
  }

  private append(part: Buffer): void {
    if (part.length === 0) return;
    this.pending = true;
    this.totalBytes += part.length;
    const room = this.keepBytes - this.headBytes;
    if (room <= 0) return;
    // A copy, so that the chunk the slice came from can be collected.
    const kept = Buffer.from(part.subarray(0, room));
    this.head.push(kept);
    this.headBytes += kept.length;
  }

  private flush(): void {
    let head = Buffer.concat(this.head, this.headBytes);
    let total = this.totalBytes;
    if (total === head.length && head.at(-1) === CARRIAGE_RETURN) {
      head = head.subarray(0, -1);
      total -= 1;
    }
    this.head = [];
    this.headBytes = 0;
    this.totalBytes = 0;
    this.pending = false;
    this.onLine(head, total);
  }
}

/**
 * The line as it may be logged: at most `maxBytes` bytes of UTF-8. A longer line keeps its start, cut on a character
 * boundary, followed by a marker naming the original length; the marker is counted within `maxBytes`.
 */
export function cutLine(head: Buffer, totalBytes: number, maxBytes: number): string {
  if (totalBytes <= maxBytes && head.length === totalBytes) return head.toString('utf8');
  const marker = ` …[truncated: line was ${totalBytes} bytes]`;
  let room = Math.min(head.length, Math.max(0, maxBytes - Buffer.byteLength(marker)));
  while (room > 0 && (head[room]! & 0xc0) === 0x80) room -= 1;
  return head.subarray(0, room).toString('utf8') + marker;
}

/** `cutLine` for text already in memory. */
export function cutText(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  return cutLine(bytes, bytes.length, maxBytes);
}
