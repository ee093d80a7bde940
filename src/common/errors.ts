/**
 * Domain errors carry a code; ERROR_TABLE is the one place that maps a code to an HTTP status (and, later,
 * a GraphQL error code). Services throw these; transports translate them once at the edge.
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

export const ERROR_TABLE: Record<ErrorCode, { status: number; error: string }> = {
  VALIDATION_FAILED: { status: 400, error: 'Bad Request' },
  UNAUTHENTICATED: { status: 401, error: 'Unauthorized' },
  FORBIDDEN: { status: 403, error: 'Forbidden' },
  NOT_FOUND: { status: 404, error: 'Not Found' },
  CONFLICT: { status: 409, error: 'Conflict' },
  INVALID_TRANSITION: { status: 409, error: 'Conflict' },
  PAYLOAD_TOO_LARGE: { status: 413, error: 'Payload Too Large' },
  RATE_LIMITED: { status: 429, error: 'Too Many Requests' },
  UNAVAILABLE: { status: 503, error: 'Service Unavailable' },
};

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
  constructor(what: string, id: string) {
    super('NOT_FOUND', `${what} '${id}' not found`);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, reason?: string) {
    super('CONFLICT', message, reason ? { reason } : undefined);
  }
}
