/**
 * Domain errors carry a code; ERROR_TABLE is the one place that maps a code to an HTTP status and a GraphQL
 * error code (`extensions.code`). Services throw these; each transport translates them once at its edge
 * (common/http-exception.filter.ts for REST, graphql/format-error.ts for GraphQL).
 */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'INVALID_TRANSITION'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE';

export type ErrorMapping = { status: number; error: string; graphqlCode: string };

export const ERROR_TABLE: Record<ErrorCode, ErrorMapping> = {
  VALIDATION_FAILED: { status: 400, error: 'Bad Request', graphqlCode: 'BAD_USER_INPUT' },
  UNAUTHENTICATED: { status: 401, error: 'Unauthorized', graphqlCode: 'UNAUTHENTICATED' },
  FORBIDDEN: { status: 403, error: 'Forbidden', graphqlCode: 'FORBIDDEN' },
  NOT_FOUND: { status: 404, error: 'Not Found', graphqlCode: 'NOT_FOUND' },
  CONFLICT: { status: 409, error: 'Conflict', graphqlCode: 'CONFLICT' },
  INVALID_TRANSITION: { status: 409, error: 'Conflict', graphqlCode: 'CONFLICT' },
  PAYLOAD_TOO_LARGE: { status: 413, error: 'Payload Too Large', graphqlCode: 'PAYLOAD_TOO_LARGE' },
  RATE_LIMITED: { status: 429, error: 'Too Many Requests', graphqlCode: 'RATE_LIMITED' },
  UNAVAILABLE: { status: 503, error: 'Service Unavailable', graphqlCode: 'SERVICE_UNAVAILABLE' },
};

/** Anything that is not a DomainError (a bug, a lost connection): never shown to clients beyond this. */
export const INTERNAL_ERROR: ErrorMapping & { message: string } = {
  status: 500,
  error: 'Internal Server Error',
  graphqlCode: 'INTERNAL_SERVER_ERROR',
  message: 'internal error',
};

/** What a client is told when PostgreSQL cannot be reached (503; see database-unavailable.ts). */
export const DATABASE_UNAVAILABLE = 'the database is unavailable; retry shortly';

/** The code of an HTTP status that framework exceptions (e.g. a guard's ForbiddenException) carry, if the table has one. */
export function errorCodeForStatus(status: number): ErrorCode | undefined {
  return (Object.keys(ERROR_TABLE) as ErrorCode[]).find((code) => ERROR_TABLE[code].status === status);
}

export type ErrorDetail = { path: string; message: string };

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export class ValidationError extends DomainError {
  constructor(readonly issues: ErrorDetail[]) {
    super('VALIDATION_FAILED', issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '), issues);
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string, message?: string) {
    super('NOT_FOUND', message ?? `${what} '${id}' not found`);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, reason?: string) {
    super('CONFLICT', message, reason ? { reason } : undefined);
  }
}
