import type { Logger } from 'pino';
import { BASE_CONTAINER } from '../dags/domain/kubernetes-fields.js';
import { LeaseLostError, type LeaseClient } from '../worker/lease-client.js';
import { isAfterCursor, sinceTime, splitTimestamp } from './domain/log-cursor.js';
import { ANNOTATION } from './domain/pod-labels.js';
import type { KubePods } from './kube-pods.js';
import { errorMessage } from '../common/error-text.js';

const FLUSH_MS = 500;
const FLUSH_LINES = 500;
/** Most lines held while the lease API does not take them; beyond, the oldest are dropped (and counted). */
const MAX_BUFFERED = 20_000;
/** The pod's log-cursor annotation is written at most this often while the pod runs (and once at the end). */
const CURSOR_SAVE_MS = 5_000;
const RECONNECT_MS = 500;

type Line = { line: string; stream: 'stdout' | 'stderr'; ts: string | null };

/**
 * Copies the base container's log into the attempt's task log through the lease API: follows the pod log (which the
 * API server proxies from the kubelet), reconnects when the stream drops while the container runs, reads once more
 * after it ends, and drops lines at or before the cursor, so each line is copied once across reconnects and across
 * launcher restarts (the cursor of what the lease API took is saved on the pod; at most the lines of one unsaved
 * interval are copied again after a crash). Also carries the launcher's own notes, on stderr, prefixed "[weft]".
 */
export class LogCopier {
  private readonly buffer: Line[] = [];
  /** Timestamp of the newest line received. */
  private seen: string | null;
  /** Timestamp of the newest line the lease API accepted. */
  private cursor: string | null;
  private savedCursor: string | null;
  private lastSave = 0;
  private dropped = 0;
  private loop: Promise<void> | null = null;
  private readonly stopping = new AbortController();
  private flushTimer: NodeJS.Timeout | null = null;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: { pods: KubePods; leases: LeaseClient; logger: Logger },
    private readonly target: { namespace: string; name: string; leaseId: string },
    cursor: string | null,
    /** Whether the container has ended (then one last read without follow finishes the copy). */
    private readonly ended: () => boolean,
    private readonly onLeaseLost: () => void,
  ) {
    this.seen = cursor;
    this.cursor = cursor;
    this.savedCursor = cursor;
    this.flushTimer = setInterval(() => void this.flush(), FLUSH_MS);
  }

  /** A line from the launcher itself (pod created, pending reason, re-attached …). */
  note(text: string): void {
    this.push({ line: `[weft] ${text}`, stream: 'stderr', ts: null });
  }

  /** Starts following the container's log (once it has started); idempotent. */
  start(): void {
    this.loop ??= this.follow();
  }

  /** Waits until everything the container wrote is copied, at most `timeoutMs`, then stops and flushes. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.loop) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
      const outcome = await Promise.race([this.loop.then(() => 'done' as const), late]);
      clearTimeout(timer);
      if (outcome === 'late') this.note(`the container's log could not be read to its end within ${timeoutMs / 1000} s`);
    }
    await this.close();
  }

  /** Stops following, sends what is buffered and saves the cursor on the pod (if it still exists). */
  async close(): Promise<void> {
    this.stopping.abort();
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    await this.loop?.catch(() => undefined);
    await this.flush();
    await this.saveCursor(true);
  }

  private async follow(): Promise<void> {
    const { pods, logger } = this.deps;
    const { namespace, name } = this.target;
    while (!this.stopping.signal.aborted) {
      const last = this.ended();
      try {
        await pods.readLog(namespace, name, BASE_CONTAINER, { follow: !last, sinceTime: sinceTime(this.seen) }, (raw) => this.receive(raw), this.stopping.signal);
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        logger.debug({ pod: `${namespace}/${name}` }, `reading the pod log failed: ${errorMessage(err)}`);
        if (last) return;
      }
      if (last) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RECONNECT_MS);
        this.stopping.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  }

  private receive(raw: string): void {
    const { ts, text } = splitTimestamp(raw);
    if (!isAfterCursor(ts, this.seen)) return;
    if (ts !== null) this.seen = ts;
    this.push({ line: text, stream: 'stdout', ts });
  }

  private push(line: Line): void {
    this.buffer.push(line);
    if (this.buffer.length > MAX_BUFFERED) {
      this.dropped += this.buffer.length - MAX_BUFFERED;
      this.buffer.splice(0, this.buffer.length - MAX_BUFFERED);
    }
    if (this.buffer.length >= FLUSH_LINES) void this.flush();
  }

  /** Sends the buffered lines (one request at a time); on a transient error they stay for the next flush. */
  flush(): Promise<void> {
    this.sending = this.sending.then(async () => {
      if (this.dropped) {
        this.buffer.unshift({ line: `[weft] ${this.dropped} log lines dropped: the lease API did not take them in time`, stream: 'stderr', ts: null });
        this.dropped = 0;
      }
      while (this.buffer.length) {
        const batch = this.buffer.slice(0, 5000);
        try {
          await this.deps.leases.logs(this.target.leaseId, batch.map(({ line, stream }) => ({ line, stream })));
        } catch (err) {
          if (err instanceof LeaseLostError) {
            this.buffer.length = 0;
            this.onLeaseLost();
          } else {
            this.deps.logger.warn({ pod: `${this.target.namespace}/${this.target.name}` }, `sending logs failed: ${errorMessage(err)}`);
          }
          return;
        }
        this.buffer.splice(0, batch.length);
        const stamped = batch.findLast((l) => l.ts !== null);
        if (stamped) this.cursor = stamped.ts;
      }
      await this.saveCursor(false);
    });
    return this.sending;
  }

  private async saveCursor(force: boolean): Promise<void> {
    if (this.cursor === this.savedCursor || (!force && Date.now() - this.lastSave < CURSOR_SAVE_MS)) return;
    const cursor = this.cursor;
    this.lastSave = Date.now();
    try {
      await this.deps.pods.annotate(this.target.namespace, this.target.name, { [ANNOTATION.logCursor]: cursor });
      this.savedCursor = cursor;
    } catch (err) {
      this.deps.logger.debug(`saving the log cursor failed: ${errorMessage(err)}`);
    }
  }
}
