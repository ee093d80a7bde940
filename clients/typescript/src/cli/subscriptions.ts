/** GraphQL subscriptions over graphql-ws (the service's /graphql endpoint), authenticated at connection_init. */
import { createClient, type Client as WsClient } from 'graphql-ws/client';
import WebSocket from 'ws';
import type { Resolved } from './context.js';

export type TaskEvent = { sequence: number; taskId: string; mapIndex: number | null; previousState: string | null; state: string; tryNumber: number; maxTries: number; at: string };
export type BackfillEvent = {
  sequence: number;
  total: number;
  pending: number;
  queued: number;
  running: number;
  success: number;
  failed: number;
  skipped: number;
  isPaused: boolean;
  completedAt: string | null;
  canceledAt: string | null;
};

export function subscriptionClient(conn: Resolved): WsClient {
  return createClient({
    url: `${conn.apiUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: conn.apiKey ? { authorization: `Bearer ${conn.apiKey}` } : {},
    // 4403: the key was refused; retrying will not help.
    shouldRetry: (e) => (e as { code?: number } | null)?.code !== 4403,
  });
}

/**
 * Calls `onEvent` for each event of one subscription field until it returns true (then resolves) or the
 * subscription fails (rejects with the GraphQL errors or the close reason).
 */
export function follow<T>(client: WsClient, query: string, variables: Record<string, unknown>, field: string, onEvent: (event: T) => boolean | Promise<boolean>): { done: Promise<void>; stop(): void } {
  let stop = () => {};
  const done = new Promise<void>((resolve, reject) => {
    let chain = Promise.resolve();
    const unsubscribe = client.subscribe<Record<string, T>>(
      { query, variables },
      {
        next: (result) => {
          if (result.errors?.length) return reject(new Error(result.errors.map((e) => e.message).join('; ')));
          const event = result.data?.[field];
          if (!event) return;
          // Events are handled one at a time, in order.
          chain = chain.then(async () => {
            if (await onEvent(event)) {
              stop();
              resolve();
            }
          }).catch(reject);
        },
        error: (err) => reject(err instanceof Error ? err : new Error(closeReason(err))),
        complete: () => resolve(),
      },
    );
    stop = () => {
      unsubscribe();
      resolve();
    };
  });
  return { done, stop: () => stop() };
}

function closeReason(err: unknown): string {
  if (Array.isArray(err)) return err.map((e: { message?: string }) => e.message).join('; ');
  const close = err as { code?: number; reason?: string } | null;
  return close?.code ? `subscription closed (${close.code}${close.reason ? `: ${close.reason}` : ''})` : String(err);
}

export const TASK_EVENTS = `subscription ($dagId: ID!, $runId: String!, $after: Int) {
  taskInstanceStateChanged(dagId: $dagId, runId: $runId, afterSequence: $after) { sequence taskId mapIndex previousState state tryNumber maxTries at }
}`;

export const BACKFILL_EVENTS = `subscription ($id: Int!, $after: Int) {
  backfillProgress(backfillId: $id, afterSequence: $after) { sequence total pending queued running success failed skipped isPaused completedAt canceledAt }
}`;
