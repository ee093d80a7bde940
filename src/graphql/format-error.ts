import { unwrapResolverError } from '@apollo/server/errors';
import { HttpException } from '@nestjs/common';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { isDatabaseUnavailable } from '../common/database-unavailable.js';
import { DATABASE_UNAVAILABLE, DomainError, ERROR_TABLE, errorCodeForStatus, INTERNAL_ERROR } from '../common/errors.js';
import { explainParseError } from './limits.js';

/**
 * The one translation from errors to GraphQL errors: `extensions: {code, statusCode, details?}`, from the same
 * ERROR_TABLE as REST's `{statusCode, error, message, details?}`. Anything unexpected becomes INTERNAL_SERVER_ERROR
 * with a generic message (reported through `onInternal`); no stack trace or internal message reaches a client.
 */
export function formatGraphqlError(
  formatted: GraphQLFormattedError,
  error: unknown,
  onInternal: (original: unknown) => void,
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const where = { ...(formatted.locations && { locations: formatted.locations }), ...(formatted.path && { path: formatted.path }) };

  if (original instanceof DomainError) {
    const { graphqlCode, status } = ERROR_TABLE[original.code];
    const details = original.details === undefined ? {} : { details: original.details };
    return { message: original.message, ...where, extensions: { code: graphqlCode, statusCode: status, ...details } };
  }
  // Framework exceptions (e.g. a guard's ForbiddenException) carry an HTTP status: mapped through the same table.
  if (original instanceof HttpException) {
    const status = original.getStatus();
    const code = errorCodeForStatus(status);
    if (code) return { message: original.message, ...where, extensions: { code: ERROR_TABLE[code].graphqlCode, statusCode: status } };
    if (status < 500) return { message: original.message, ...where, extensions: { code: 'BAD_REQUEST', statusCode: status } };
  }
  // The GraphQL layer's own verdicts on the request (syntax, unknown fields, argument types): Apollo's codes.
  if (original instanceof GraphQLError && formatted.extensions?.code !== INTERNAL_ERROR.graphqlCode) {
    return { message: explainParseError(formatted.message), ...where, extensions: { code: formatted.extensions?.code ?? 'BAD_REQUEST', statusCode: 400 } };
  }
  if (isDatabaseUnavailable(original)) {
    const { graphqlCode, status } = ERROR_TABLE.UNAVAILABLE;
    return { message: DATABASE_UNAVAILABLE, ...where, extensions: { code: graphqlCode, statusCode: status } };
  }
  onInternal(original);
  return { message: INTERNAL_ERROR.message, ...where, extensions: { code: INTERNAL_ERROR.graphqlCode, statusCode: INTERNAL_ERROR.status } };
}
