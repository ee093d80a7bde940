import { createClient, type Client } from 'graphql-ws';
import { signal } from './signal';
import { storedKey } from './api';

/**
 * Live updates: one graphql-ws connection for the whole console, multiplexing every subscription. graphql-ws
 * reconnects by itself and sends each active subscription's payload again; `follow` keeps the cursor variable of
 * that payload (afterSequence, afterId) at the last event handled, so a reconnect resumes exactly there: nothing
 * missed, nothing twice. There are no polling loops.
 */

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'idle';
export const liveStatus = signal<LiveStatus>('connecting');

let client: Client | null = null;
/** Subscriptions open now: the lazy connection closes when none is, which is idle, not a lost connection. */
let following = 0;

function wsUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/graphql`;
}

function liveClient(): Client {
  client ??= createClient({
    url: wsUrl(),
    lazy: true,
    connectionParams: () => {
      const key = storedKey();
      return key ? { authorization: `Bearer ${key}` } : {};
    },
    retryAttempts: Number.POSITIVE_INFINITY,
    // 4403: the key was refused; trying again would not change that.
    shouldRetry: (e) => !(e && typeof e === 'object' && 'code' in e && (e as { code: number }).code === 4403),
    keepAlive: 15_000,
    on: {
      connected: () => liveStatus.set('live'),
      closed: () => liveStatus.set(following ? 'reconnecting' : 'idle'),
    },
  });
  return client;
}

/** Closes the connection (sign-out): the next subscription opens a new one with the new key. */
export function resetLive(): void {
  void client?.dispose();
  client = null;
  following = 0;
  liveStatus.set('connecting');
}

type Cursor = { name: 'afterSequence' | 'afterId'; value: number | string | null };

/**
 * Subscribes to `query` and hands each event's data to `onData`; `cursorOf` reads the event's position, which
 * becomes the cursor variable for a resumption. Returns the unsubscribe function.
 */
export function follow<T>(
  query: string,
  variables: Record<string, unknown>,
  cursor: Cursor,
  cursorOf: (data: T) => number | string,
  onData: (data: T) => void,
  onError: (message: string) => void,
): () => void {
  const payload = { query, variables: { ...variables, [cursor.name]: cursor.value } };
  following++;
  let open = true;
  const stop = liveClient().subscribe<T>(payload, {
    next: (result) => {
      if (result.errors?.length) return onError(result.errors.map((e) => e.message).join('; '));
      if (!result.data) return;
      payload.variables[cursor.name] = cursorOf(result.data as T);
      onData(result.data as T);
    },
    error: (err) => onError(Array.isArray(err) ? err.map((e: { message: string }) => e.message).join('; ') : err instanceof Error ? err.message : 'the live connection failed'),
    complete: () => undefined,
  });
  return () => {
    if (open && following > 0) following--;
    open = false;
    stop();
  };
}
