import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** A real graphql-ws client against a listening Weft (`base` = http://host:port). */
export function wsClient(base: string, apiKey?: string): Client {
  return createClient({
    url: `${base.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

/** Collects a subscription's payloads in the background; `until` resolves once `pred` holds for what arrived. */
export function collect<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const items: T[] = [];
  let failure: unknown;
  const iterator = client.iterate<T>({ query, variables });
  const done = (async () => {
    try {
      for await (const r of iterator) {
        if (r.errors) throw Object.assign(new Error(JSON.stringify(r.errors)), { errors: r.errors });
        items.push(r.data as T);
      }
    } catch (err) {
      // graphql-ws throws an error message's GraphQL errors as an array, a refused connection as its close event.
      failure = Array.isArray(err) ? { errors: err } : err;
    }
  })();
  return {
    items,
    get failure() {
      return failure;
    },
    done,
    async until(pred: (items: T[]) => boolean, what: string, timeoutMs = 30_000): Promise<T[]> {
      const deadline = Date.now() + timeoutMs;
      while (!pred(items)) {
        if (failure) throw failure instanceof Error ? failure : new Error(`subscription failed: ${JSON.stringify(failure)}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(items)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return items;
    },
    async stop() {
      await iterator.return?.();
      await done;
    },
  };
}
