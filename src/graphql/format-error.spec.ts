import { describe, expect, it, jest } from '@jest/globals';
import { ForbiddenException, HttpException, ServiceUnavailableException } from '@nestjs/common';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ConflictError, DomainError, ERROR_TABLE, NotFoundError, ValidationError, type ErrorCode } from '../common/errors.js';
import { formatGraphqlError } from './format-error.js';

/** What Apollo hands formatError for an error a resolver threw: a located GraphQLError around the original. */
function fromResolver(original: unknown): { formatted: GraphQLFormattedError; error: GraphQLError } {
  const error = new GraphQLError(original instanceof Error ? original.message : String(original), {
    path: ['field'],
    originalError: original instanceof Error ? original : undefined,
  });
  return { formatted: { message: error.message, path: ['field'], locations: [{ line: 1, column: 3 }], extensions: { code: 'INTERNAL_SERVER_ERROR' } }, error };
}

function format(original: unknown, onInternal = jest.fn()) {
  const { formatted, error } = fromResolver(original);
  return formatGraphqlError(formatted, error, onInternal);
}

describe(formatGraphqlError.name, () => {
  it('maps every domain error code through ERROR_TABLE, with the REST status', () => {
    for (const code of Object.keys(ERROR_TABLE) as ErrorCode[]) {
      const out = format(new DomainError(code, `a ${code}`));
      expect(out).toEqual({
        message: `a ${code}`,
        path: ['field'],
        locations: [{ line: 1, column: 3 }],
        extensions: { code: ERROR_TABLE[code].graphqlCode, statusCode: ERROR_TABLE[code].status },
      });
    }
  });

  it('carries details: the field paths of a validation error, the reason of a conflict', () => {
    expect(format(new ValidationError([{ path: 'input.slots', message: 'too small' }])).extensions).toEqual({
      code: 'BAD_USER_INPUT',
      statusCode: 400,
      details: [{ path: 'input.slots', message: 'too small' }],
    });
    expect(format(new ConflictError('taken', 'pool_exists')).extensions).toEqual({ code: 'CONFLICT', statusCode: 409, details: { reason: 'pool_exists' } });
    expect(format(new NotFoundError('pool', 'p')).extensions).toEqual({ code: 'NOT_FOUND', statusCode: 404 });
  });

  it('maps framework HTTP exceptions by status through the same table', () => {
    expect(format(new ForbiddenException('no')).extensions).toEqual({ code: 'FORBIDDEN', statusCode: 403 });
    expect(format(new HttpException('odd', 418)).extensions).toEqual({ code: 'BAD_REQUEST', statusCode: 418 });
    expect(format(new ServiceUnavailableException('later')).extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', statusCode: 503 });
  });

  it('hides anything unexpected behind a generic internal error and reports it', () => {
    const onInternal = jest.fn();
    const bug = new TypeError('cannot read properties of undefined (reading "secret")');
    const out = format(bug, onInternal);
    expect(out).toEqual({
      message: 'internal error',
      path: ['field'],
      locations: [{ line: 1, column: 3 }],
      extensions: { code: 'INTERNAL_SERVER_ERROR', statusCode: 500 },
    });
    expect(onInternal).toHaveBeenCalledWith(bug);
    const thrownString = format('a string');
    expect(thrownString.message).toBe('internal error');
    expect(thrownString.extensions).not.toHaveProperty('stacktrace');
  });

  it('keeps the GraphQL layer’s own codes for rejected requests, without anything else from extensions', () => {
    const error = new GraphQLError('Cannot query field "nope" on type "Query".');
    const formatted = { message: error.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED', stacktrace: ['GraphQLError: …'] } };
    expect(formatGraphqlError(formatted, error, jest.fn())).toEqual({
      message: 'Cannot query field "nope" on type "Query".',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED', statusCode: 400 },
    });
  });
});
