import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Injectable } from '@nestjs/common';
import type { GraphQLSchema } from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * What the `graphql-ws` entry of the driver's `subscriptions` holds here: graphql-ws's options (`E`: what hooks add
 * to a connection's `extra`, beside its socket and upgrade request), the path and the frame limit.
 */
export type WsEndpointOptions<E extends Record<PropertyKey, unknown> = Record<PropertyKey, never>> = ServerOptions<
  Record<string, unknown> | undefined,
  Extra & Partial<E>
> & { path: string; maxPayload: number; onSocketError?: (err: Error & { code?: string }) => void };

/**
 * The graphql-ws endpoint (subscriptions over WebSocket on /graphql), served by Weft itself rather than by Nest's
 * GqlSubscriptionService, which creates its WebSocketServer with ws's defaults and cannot be given options:
 * - **frames are bounded** (`maxPayload`, the HTTP body limit): ws's default is 100 MiB, which any client could send
 *   before connection_init, unauthenticated, and which the server buffers and parses in full (a 90 MiB frame cost
 *   ~360 MB of memory); over the limit ws closes the socket with 1009 (message too big) as soon as the frame header
 *   says so;
 * - **an upgrade to any other path is answered 404** and the socket closed: Nest's listener ignored it, leaving the
 *   socket open for good (no HTTP timeout applies once a request is an upgrade), one file descriptor each.
 */
export function serveGraphqlWs<E extends Record<PropertyKey, unknown>>(httpServer: Server, options: WsEndpointOptions<E>): { stop(): Promise<void> } {
  const { path, maxPayload, onSocketError = () => undefined, ...server } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload });
  const disposable = useServer<Record<string, unknown> | undefined, E>(server, wss);
  // A socket error is the client's doing (a frame over maxPayload, invalid UTF-8, a bad opcode): ws has already
  // closed the socket with the matching code (1009, 1007, 1002). graphql-ws would print each one with its stack
  // trace through console.error, outside the service's log, as often as a client cares to send one.
  wss.on('connection', (socket: WebSocket) => {
    socket.removeAllListeners('error');
    socket.on('error', (err: Error & { code?: string }) => onSocketError(err));
  });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if ((req.url ?? '').split('?')[0] !== path) return refuseUpgrade(socket, 404, 'Not Found', `no WebSocket endpoint here; GraphQL subscriptions are served on ${path}`);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  httpServer.on('upgrade', onUpgrade);
  return {
    async stop() {
      httpServer.off('upgrade', onUpgrade);
      await disposable.dispose();
    },
  };
}

function refuseUpgrade(socket: Duplex, status: number, error: string, message: string): void {
  const body = JSON.stringify({ statusCode: status, error, message });
  socket.on('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${error}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** ApolloDriver, with the graphql-ws endpoint of serveGraphqlWs instead of Nest's. */
@Injectable()
export class WeftApolloDriver extends ApolloDriver {
  private ws: { stop(): Promise<void> } | null = null;

  override async start(options: ApolloDriverConfig): Promise<void> {
    const { subscriptions, installSubscriptionHandlers: _ignored, ...http } = options;
    await super.start(http);
    const ws = subscriptions?.['graphql-ws'];
    if (ws && typeof ws === 'object') {
      const httpServer = this.httpAdapterHost.httpAdapter.getHttpServer() as Server;
      const endpoint: WsEndpointOptions = { schema: options.schema as GraphQLSchema, context: options.context as WsEndpointOptions['context'], ...(ws as WsEndpointOptions) };
      this.ws = serveGraphqlWs(httpServer, endpoint);
    }
  }

  override async stop(): Promise<void> {
    await this.ws?.stop();
    this.ws = null;
    await super.stop();
  }
}

/** A connection that can be closed with a code and reason (the ws socket of a graphql-ws connection). */
type Closable = Pick<WebSocket, 'close'>;

/**
 * The API keys of open graphql-ws connections, checked again together (one query) every `everyMs` while any
 * connection is open: a connection whose key was revoked is closed with 4403, ending its subscriptions, even when
 * they have no event to send (the per-event check of SubscriptionsService only runs when an event arrives).
 */
export class WsKeyWatch {
  private readonly byKey = new Map<string, Set<Closable>>();
  private timer: NodeJS.Timeout | null = null;
  private checking = false;

  constructor(
    private readonly activeIds: (ids: string[]) => Promise<Set<string>>,
    private readonly everyMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  add(keyId: string, socket: Closable): void {
    let set = this.byKey.get(keyId);
    if (!set) this.byKey.set(keyId, (set = new Set()));
    set.add(socket);
    this.timer ??= setInterval(() => void this.check(), this.everyMs).unref();
  }

  remove(keyId: string, socket: Closable): void {
    const set = this.byKey.get(keyId);
    set?.delete(socket);
    if (set?.size === 0) this.byKey.delete(keyId);
    if (this.byKey.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  get connections(): number {
    let n = 0;
    for (const set of this.byKey.values()) n += set.size;
    return n;
  }

  /** Closes the connections of keys no longer valid. A failed query (database down) closes nothing: the next round asks again. */
  async check(): Promise<void> {
    if (this.checking || this.byKey.size === 0) return;
    this.checking = true;
    try {
      const ids = [...this.byKey.keys()];
      const active = await this.activeIds(ids);
      for (const id of ids) {
        if (active.has(id)) continue;
        for (const socket of this.byKey.get(id) ?? []) socket.close(4403, 'Forbidden: the API key was revoked');
      }
    } catch (err) {
      this.onError(err);
    } finally {
      this.checking = false;
    }
  }
}
