/**
 * Live tails of task logs: a subscriber reads the lines after its cursor (the id of the last line it has), then
 * each time lines are appended. Pure: the reading is a function handed in, the wake-ups come from outside.
 */

/** NOTIFY channel: lines were appended to a task instance's log (payload: the task instance's row id). */
export const TASK_LOGS_CHANNEL = 'weft_task_logs';

export type TailLine = { id: string; tryNumber: number; line: string; stream: string; at: Date };
/** What a tail yields: the lines after the previous chunk, oldest first, and the id to resume after. */
export type TailChunk = { lines: TailLine[]; lastId: string };

/**
 * One subscriber's tail. It reads only while its consumer waits for the next chunk, so a slow consumer costs no
 * memory: a wake-up while nobody waits just marks the tail to be read at the next `next()`. The cursor moves only
 * when a chunk is handed over, so nothing read is lost when the consumer leaves meanwhile.
 */
export class LogTail implements AsyncIterableIterator<TailChunk> {
  private cursor: string;
  private dirty = true;
  private reading = false;
  private waiter: { resolve: (r: IteratorResult<TailChunk>) => void; reject: (e: unknown) => void } | null = null;
  done = false;

  constructor(
    private readonly read: (afterId: string, limit: number) => Promise<TailLine[]>,
    afterId: string,
    private readonly pageSize: number,
    private readonly onEnd: (t: LogTail) => void,
  ) {
    this.cursor = afterId;
  }

  /** New lines may be there: read them now if the consumer waits, else at its next `next()`. */
  poke(): void {
    this.dirty = true;
    void this.pump();
  }

  next(): Promise<IteratorResult<TailChunk>> {
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      void this.pump();
    });
  }

  return(): Promise<IteratorResult<TailChunk>> {
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<TailChunk> {
    return this;
  }

  private async pump(): Promise<void> {
    if (this.reading || !this.dirty || !this.waiter || this.done) return;
    this.reading = true;
    this.dirty = false;
    let lines: TailLine[];
    try {
      lines = await this.read(this.cursor, this.pageSize);
    } catch (err) {
      this.reading = false;
      const w = this.waiter;
      this.waiter = null;
      this.finish();
      w?.reject(err);
      return;
    }
    this.reading = false;
    // A full page: there may be more right away.
    if (lines.length >= this.pageSize) this.dirty = true;
    const w = this.waiter;
    if (lines.length && w && !this.done) {
      this.cursor = lines[lines.length - 1]!.id;
      this.waiter = null;
      w.resolve({ value: { lines, lastId: this.cursor }, done: false });
    }
    void this.pump();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    const w = this.waiter;
    this.waiter = null;
    w?.resolve({ value: undefined, done: true });
    this.onEnd(this);
  }
}
