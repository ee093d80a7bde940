import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { isDatabaseUnavailable } from '../common/database-unavailable.js';
import { CONFIG, type Config } from '../config/config.js';
import { DATABASE_URL } from './database.tokens.js';
import { SESSION_SETTINGS_SQL, sessionSettings, socketOptions } from './pool.js';

/** What a channel's user hears: its notifications, and the loss of the connection (notifications may be missing). */
export type ChannelHandler = {
  onNotify(payload: string): void;
  /** The connection dropped: NOTIFYs sent until it is back are lost, so re-check whatever they would have told. */
  onLost(): void;
};

const RECONNECT_MS = 1_000;

/**
 * One LISTEN connection per process for every channel (queue wake-ups, subscription events, API-key revocations).
 * It connects when the first channel is asked for (an idle process holds no extra connection), reconnects while
 * channels are registered, and tells each channel when notifications may have been lost, so its user can re-check.
 */
@Injectable()
export class PgListener implements OnApplicationShutdown {
  private readonly logger = new Logger('pg-listener');
  private readonly channels = new Map<string, Set<ChannelHandler>>();
  /** Channels whose LISTEN ran on the current connection. */
  private readonly listening = new Set<string>();
  private readonly pendingListens = new Map<string, Promise<void>>();
  private listenChain: Promise<void> = Promise.resolve();
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    @Inject(DATABASE_URL) private readonly url: string,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /**
   * Adds a handler for `channel`; resolves once the LISTEN is in effect, so a NOTIFY committed after that is heard.
   * Rejects when the database cannot be reached (the handler stays registered: a later connection serves it).
   */
  async listen(channel: string, handler: ChannelHandler): Promise<void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
    let set = this.channels.get(channel);
    if (!set) this.channels.set(channel, (set = new Set()));
    set.add(handler);
    await this.ensureChannel(channel);
  }

  /** Whether `channel` is being listened to right now (a notification sent now would be heard). */
  isListening(channel: string): boolean {
    return this.client !== null && this.listening.has(channel);
  }

  /** Makes sure the connection is up and `channel` is listened to on it. */
  private async ensureChannel(channel: string): Promise<void> {
    if (this.closed) return; // shutting down: waiters time out as usual
    const client = this.client ?? (await this.connect());
    if (this.listening.has(channel)) return;
    // One LISTEN per channel in flight however many callers ask at once, and one query at a time on the client.
    let pending = this.pendingListens.get(channel);
    if (!pending) {
      pending = this.listenChain
        .catch(() => undefined)
        .then(() => client.query(`LISTEN ${channel}`))
        .then(() => {
          if (this.client === client) this.listening.add(channel);
        })
        .finally(() => this.pendingListens.delete(channel));
      this.listenChain = pending;
      this.pendingListens.set(channel, pending);
    }
    await pending;
  }

  private connect(): Promise<pg.Client> {
    this.connecting ??= this.open().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async open(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url, ...socketOptions(this.config) });
    client.on('notification', (n) => {
      for (const h of this.channels.get(n.channel) ?? []) h.onNotify(n.payload ?? '');
    });
    client.on('error', (err) => this.lost(client, err.message));
    client.on('end', () => this.lost(client, 'connection ended'));
    try {
      await client.connect();
      // The session's bounds (its keepalives matter here: this connection is idle most of the time; a server that
      // refuses them for another reason than being unavailable is the pool's to report, database/pool.ts).
      const settings = sessionSettings(this.config);
      if (settings) {
        await client.query(SESSION_SETTINGS_SQL, settings).catch((err: unknown) => {
          if (isDatabaseUnavailable(err)) throw err;
        });
      }
      // Every channel in use on the new connection at once (one round trip); then it replaces the old one.
      const names = [...this.channels.keys()];
      if (names.length > 0) await client.query(names.map((c) => `LISTEN ${c}`).join('; '));
      this.listening.clear();
      for (const c of names) this.listening.add(c);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error('shutting down');
    }
    this.client = client;
    return client;
  }

  private lost(client: pg.Client, reason: string): void {
    if (this.client !== client || this.closed) return;
    this.client = null;
    this.listening.clear();
    void client.end().catch(() => undefined);
    this.logger.warn(`LISTEN connection lost (${reason}); reconnecting`);
    for (const set of this.channels.values()) for (const h of set) h.onLost();
    this.reconnectSoon();
  }

  /** Reconnects while channels are in use; each channel hears onLost once more when it is back (re-check then). */
  private reconnectSoon(): void {
    if (this.reconnectTimer || this.closed) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.closed || this.client || this.channels.size === 0) return;
      this.connect()
        .then(() => {
          for (const set of this.channels.values()) for (const h of set) h.onLost();
        })
        .catch(() => this.reconnectSoon());
    }, RECONNECT_MS);
    this.reconnectTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
