import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from './database-unavailable.js';
import { payloadTooLarge, unsupportedMediaType } from './http-edge.js';
import { DATABASE_UNAVAILABLE, DomainError, ERROR_TABLE, errorCodeForStatus, INTERNAL_ERROR } from './errors.js';

export type ErrorBody = { statusCode: number; error: string; message: string; details?: unknown };

/** The one translation from errors to HTTP responses: `{statusCode, error, message, details?}`. */
export function toErrorBody(exception: unknown): ErrorBody {
  if (exception instanceof DomainError) {
    const { status, error } = ERROR_TABLE[exception.code];
    return { statusCode: status, error, message: exception.message, details: exception.details };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const res = exception.getResponse();
    const message = typeof res === 'string' ? res : String((res as { message?: unknown }).message ?? exception.message);
    return { statusCode: status, error: httpError(status), message };
  }
  // PostgreSQL unreachable: 503, and the caller may retry (the service recovers when the database is back).
  if (isDatabaseUnavailable(exception)) {
    const { status, error } = ERROR_TABLE.UNAVAILABLE;
    return { statusCode: status, error, message: DATABASE_UNAVAILABLE };
  }
  // Fastify's own errors (body too large, bad JSON, bad content type) carry a statusCode.
  const fastifyStatus = (exception as { statusCode?: unknown })?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    return { statusCode: fastifyStatus, error: httpError(fastifyStatus), message: (exception as Error).message };
  }
  return { statusCode: INTERNAL_ERROR.status, error: INTERNAL_ERROR.error, message: INTERNAL_ERROR.message };
}

/**
 * A request to /graphql refused before GraphQL saw it (malformed or unsafe JSON, wrong content type, too large) is
 * answered in GraphQL's shape, with the same codes as its other errors (graphql/format-error.ts).
 */
export function isGraphqlRequest(url: string | undefined): boolean {
  return url === '/graphql' || Boolean(url?.startsWith('/graphql?'));
}

export function toGraphqlEdgeBody(body: ErrorBody): { errors: { message: string; extensions: Record<string, unknown> }[] } {
  const code = errorCodeForStatus(body.statusCode);
  const graphqlCode = code ? ERROR_TABLE[code].graphqlCode : body.statusCode < 500 ? 'BAD_REQUEST' : INTERNAL_ERROR.graphqlCode;
  return { errors: [{ message: body.message, extensions: { code: graphqlCode, statusCode: body.statusCode, ...(body.details === undefined ? {} : { details: body.details }) } }] };
}

function httpError(status: number): string {
  const known: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    409: 'Conflict',
    413: 'Payload Too Large',
    414: 'URI Too Long',
    415: 'Unsupported Media Type',
    429: 'Too Many Requests',
    503: 'Service Unavailable',
  };
  return known[status] ?? 'Error';
}

/**
 * Fastify's own answers for a body it refuses say neither the limit nor what to send: these do.
 */
function clarify(exception: unknown, req: FastifyRequest | undefined, bodyLimitBytes: number | undefined): unknown {
  // Nest's Fastify adapter hands Fastify's own 4xx errors to the filters wrapped in an HttpException, the original
  // as its cause: look at both.
  const cause = exception instanceof HttpException ? exception.cause : undefined;
  const code = (exception as { code?: unknown })?.code ?? (cause as { code?: unknown } | undefined)?.code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' && bodyLimitBytes !== undefined) return payloadTooLarge(bodyLimitBytes);
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return unsupportedMediaType(req?.headers['content-type']);
  return exception;
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  constructor(private readonly limits: { bodyLimitBytes?: number } = {}) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    // GraphQL resolvers' errors go on to the GraphQL module's formatError, which maps them through the same table.
    if (host.getType() !== 'http') throw exception;
    const req = host.switchToHttp().getRequest<FastifyRequest>();
    const body = toErrorBody(clarify(exception, req, this.limits.bodyLimitBytes));
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (body.statusCode === 503) {
      // Debug only: during an outage every request says the same (readiness and the scheduler report it once).
      this.logger.debug(`${body.message}: ${exception instanceof Error ? exception.message : String(exception)}`);
      void reply.header('retry-after', '5');
    } else if (body.statusCode >= 500) {
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    }
    void reply.status(body.statusCode).send(isGraphqlRequest(req?.url) ? toGraphqlEdgeBody(body) : body);
  }
}
