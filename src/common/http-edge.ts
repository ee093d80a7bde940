import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { ValidationError } from './errors.js';
import { isGraphqlRequest, toErrorBody, toGraphqlEdgeBody } from './http-exception.filter.js';
import { parseSafeJson, UnsafeJsonError } from './safe-json.js';
import { findUnsafeText } from './unsafe-text.js';

/**
 * The HTTP edge: what every request goes through before a controller or resolver sees it, in one place.
 * - Path parameters up to MAX_PARAM_LENGTH characters (ids are at most 250, percent-encoded up to three times that);
 *   longer answer `414`.
 * - JSON bodies only (anything else is `415`), parsed by parseSafeJson: depth, duplicate keys, NUL and lone
 *   surrogates, each a `400` naming the field.
 * - NUL and lone surrogates in path parameters and the query string: `400` naming the parameter.
 * - A body over the limit is answered `413`, and the rest of it is read and dropped (up to DRAIN_MAX_BYTES or
 *   DRAIN_MAX_MS) so that a client still uploading can read the answer instead of seeing the connection reset;
 *   a client that asks `Expect: 100-continue` is answered `413` before it sends the body at all.
 * Every answer has the one error shape (toErrorBody).
 */
export const MAX_PARAM_LENGTH = 1024;
export const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
export const DRAIN_MAX_MS = 30_000;

type EdgeLimits = { bodyLimitBytes: number; maxJsonDepth: number };

/** Options for the Fastify instance (Nest's FastifyAdapter passes them on). */
export function edgeServerOptions(limits: EdgeLimits): Pick<FastifyServerOptions, 'routerOptions' | 'frameworkErrors' | 'bodyLimit'> {
  return {
    bodyLimit: limits.bodyLimitBytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Routing errors Fastify answers itself, in its own shape unless told otherwise.
    frameworkErrors: (error, _req, reply) => {
      const code = (error as { code?: string }).code;
      if (code === 'FST_ERR_MAX_PARAM_LENGTH') {
        return sendError(reply, 414, `a path parameter is longer than ${MAX_PARAM_LENGTH} characters (ids are 1-250 characters)`);
      }
      if (code === 'FST_ERR_BAD_URL') {
        return sendError(reply, 400, 'the path is not valid: a percent-encoded byte sequence is malformed or not UTF-8');
      }
      return sendError(reply, (error as { statusCode?: number }).statusCode ?? 400, error.message);
    },
  };
}

export function installHttpEdge(fastify: FastifyInstance, limits: EdgeLimits): void {
  // JSON only: Fastify's text/plain parser would hand a string to handlers that expect an object.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, body === '' ? undefined : parseSafeJson(body as string, limits.maxJsonDepth));
    } catch (err) {
      const message = err instanceof UnsafeJsonError ? err.message : `malformed JSON body: ${(err as Error).message}`;
      done(new ValidationError([(err instanceof UnsafeJsonError && err.detail) || { path: '', message }]), undefined);
    }
  });

  fastify.addHook('onRequest', (req, reply, done) => {
    const unsafe = malformedQuery(req.url) ?? findUnsafeText(req.params) ?? findUnsafeText(req.query);
    if (!unsafe) return done();
    const body = toErrorBody(new ValidationError([unsafe]));
    void reply.code(400).send(isGraphqlRequest(req.url) ? toGraphqlEdgeBody(body) : body);
  });

  fastify.addHook('onSend', async (req, reply) => {
    if (reply.statusCode === 413 && !req.raw.complete) drainRejectedBody(req.raw);
  });

  const server = fastify.server as Server;
  // Without a listener Node answers `100 Continue` by itself and the client uploads the whole body for a 413.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers['content-length']) > limits.bodyLimitBytes) {
      const error = toErrorBody(payloadTooLarge(limits.bodyLimitBytes));
      const body = JSON.stringify(isGraphqlRequest(req.url) ? toGraphqlEdgeBody(error) : error);
      res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
      res.end(body);
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
}

/**
 * A query-string parameter whose percent-encoding is malformed or not UTF-8 (the parser would quietly turn it into
 * U+FFFD): refused like the same thing in a path.
 */
function malformedQuery(url: string): { path: string; message: string } | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  for (const pair of url.slice(q + 1).split('&')) {
    const [name = '', value = ''] = pair.split('=', 2);
    for (const part of [name, value]) {
      try {
        decodeURIComponent(part.replace(/\+/g, ' '));
      } catch {
        return { path: safeName(name), message: 'is not valid: a percent-encoded byte sequence is malformed or not UTF-8' };
      }
    }
  }
  return undefined;
}

function safeName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name.replace(/%/g, '');
  }
}

/** The 413 of a body over the limit: says the limit and what to do. */
export function payloadTooLarge(limitBytes: number): Error & { statusCode: number } {
  return Object.assign(
    new Error(`the request body is larger than the limit of ${limitBytes} bytes (WEFT_BODY_LIMIT_BYTES); send a smaller body`),
    { statusCode: 413 },
  );
}

export function unsupportedMediaType(contentType: string | undefined): Error & { statusCode: number } {
  return Object.assign(
    new Error(
      `content type ${contentType ? `'${contentType}'` : '(none)'} is not supported: send the body as JSON with Content-Type: application/json` +
        // What `curl -d` sends unless told otherwise: the usual way to meet this answer.
        (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded') ? " (with curl: -H 'content-type: application/json')" : ''),
    ),
    { statusCode: 415 },
  );
}

/** Reads what is left of a refused body and drops it; a client sending far more than that is cut off. */
function drainRejectedBody(raw: FastifyRequest['raw']): void {
  let seen = 0;
  const cut = (): void => {
    clearTimeout(timer);
    raw.destroy();
  };
  const timer = setTimeout(cut, DRAIN_MAX_MS);
  timer.unref();
  raw.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DRAIN_MAX_BYTES) cut();
  });
  raw.once('end', () => clearTimeout(timer));
  raw.once('close', () => clearTimeout(timer));
  raw.resume();
}

function sendError(reply: FastifyReply, status: number, message: string): void {
  void reply.code(status).send(toErrorBody(Object.assign(new Error(message), { statusCode: status })));
}
