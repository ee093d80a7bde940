import type { ApolloServerPlugin } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  GraphQLError,
  getNamedType,
  getNullableType,
  isLeafType,
  isListType,
  Kind,
  parse,
  specifiedRules,
  validate,
  type ASTVisitor,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLSchema,
  type ParseOptions,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { findUnsafeText, unsafeTextProblem } from '../common/unsafe-text.js';

/**
 * What one GraphQL operation may ask for, checked before anything executes (so a refused operation costs no
 * database work):
 * - its size in tokens (`maxTokens`), counted by graphql-js's own parser, which stops at the limit: a huge document
 *   is refused before it is parsed in full or validated (validation of 500 aliases of one field costs ~200 ms of CPU
 *   in the standard overlapping-fields rule, refused by maxTokens in ~1 ms: docs/security.md);
 * - depth of the selection (`maxDepth`, introspection exempt) and aliases (`maxAliases`), validation rules from
 *   GraphQL Armor;
 * - a cost budget (`maxCost`), graphql-query-complexity's getComplexity with the estimator below, computed with
 *   the request's variables once the operation is known: every field costs 1, and a field with a `limit`
 *   argument multiplies what it selects by that limit (a list without one by UNPAGED_LIST_ESTIMATE), so the cost
 *   is roughly the number of values the answer can hold: `dags(limit: 1000) { items { dagId } }` costs 2,001,
 *   500 aliases of it a million;
 * - no NUL or lone surrogate in a string literal (variables arrive in the JSON body, checked at the HTTP edge).
 * Refusals are GraphQL errors with `extensions.code` GRAPHQL_VALIDATION_FAILED or QUERY_TOO_COSTLY and
 * `statusCode: 400`, answered with HTTP 400.
 */
export type GraphqlLimits = { maxTokens: number; maxDepth: number; maxAliases: number; maxCost: number };

/** Apollo's `parseOptions`. */
export function parseOptions(limits: GraphqlLimits): ParseOptions {
  return { maxTokens: limits.maxTokens };
}

const TOKEN_LIMIT = /^Syntax Error: Document contains more (?:than|that) (\d+) tokens\. Parsing aborted\.$/;

/** graphql-js's message for a document over maxTokens, saying which setting it is; other messages unchanged. */
export function explainParseError(message: string): string {
  const over = TOKEN_LIMIT.exec(message);
  return over ? `the document has more than ${over[1]} tokens (WEFT_GRAPHQL_MAX_TOKENS): send a smaller one` : message;
}

/** The guess for a list that has no `limit` argument (a run's task instances, a task instance's tries). */
export const UNPAGED_LIST_ESTIMATE = 10;

export const costEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  const limit = typeof args.limit === 'number' ? args.limit : undefined;
  // The items of a page are already counted by the page's `limit`.
  const pageItems = type.name.endsWith('Page') && field.name === 'items';
  const list = isListType(getNullableType(field.type));
  const multiplier = limit ?? (list && !pageItems && !isLeafType(getNamedType(field.type)) ? UNPAGED_LIST_ESTIMATE : 1);
  return 1 + multiplier * childComplexity;
};

export function limitRules(limits: GraphqlLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, exposeLimits: true, propagateOnRejection: false, onReject: [report('WEFT_GRAPHQL_MAX_DEPTH')] }),
    maxAliasesRule({ n: limits.maxAliases, exposeLimits: true, propagateOnRejection: false, onReject: [report('WEFT_GRAPHQL_MAX_ALIASES')] }),
    noUnsafeTextRule,
  ];
}

/** Armor's verdict as an ordinary validation error (GRAPHQL_VALIDATION_FAILED, 400) naming the setting. */
function report(variable: string) {
  return (context: ValidationContext | null, error: GraphQLError): void => {
    context?.reportError(new GraphQLError(`${error.message.replace(/^Syntax Error: /, '')} (${variable})`));
  };
}

/** String literals in the document: the same edge rule as HTTP bodies (common/unsafe-text.ts). */
export function noUnsafeTextRule(context: ValidationContext): ASTVisitor {
  return {
    [Kind.STRING]: (node) => {
      const problem = unsafeTextProblem(node.value);
      if (problem) context.reportError(new GraphQLError(`a string argument ${problem}`, { nodes: [node] }));
    },
  };
}

/** The cost of an operation (getComplexity with costEstimator); throws QUERY_TOO_COSTLY over the budget. */
export function checkCost(limits: GraphqlLimits, schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined): void {
  let cost: number;
  try {
    cost = getComplexity({ schema, query: document, variables: variables ?? {}, operationName, estimators: [costEstimator] });
  } catch {
    // Variables that do not fit their types: execution refuses them (BAD_USER_INPUT) before any resolver runs.
    return;
  }
  if (cost > limits.maxCost) {
    throw new GraphQLError(
      `the operation costs ${cost}, over the limit of ${limits.maxCost} (WEFT_GRAPHQL_MAX_COST): ask for fewer items (smaller limit arguments, fewer aliases or nested lists)`,
      { extensions: { code: 'QUERY_TOO_COSTLY', statusCode: 400, cost, maxCost: limits.maxCost, http: { status: 400 } } },
    );
  }
}

/**
 * The same checks for operations sent over the WebSocket, which graphql-ws runs with its own validate, execute and
 * subscribe (the standard rules only): wrappers for those three options.
 */
export function wsGuards(limits: GraphqlLimits): {
  onSubscribe: (ctx: unknown, id: string, payload: { query: string }) => readonly GraphQLError[] | undefined;
  validate: (schema: GraphQLSchema, document: DocumentNode) => readonly GraphQLError[];
  guard: <R>(run: (args: ExecutionArgs) => R) => (args: ExecutionArgs) => R | { errors: GraphQLError[] };
} {
  return {
    // graphql-ws parses without options: a bounded parse first (a document within the limit is then parsed again).
    onSubscribe: (_ctx, _id, payload) => {
      try {
        parse(payload.query, parseOptions(limits));
        return undefined;
      } catch (err) {
        return err instanceof GraphQLError ? [err] : undefined;
      }
    },
    validate: (schema, document) => validate(schema, document, [...specifiedRules, ...limitRules(limits)]),
    guard: (run) => (args) => {
      const unsafe = findUnsafeText(args.variableValues ?? undefined, ['variables']);
      if (unsafe) return { errors: [new GraphQLError(`${unsafe.path}: ${unsafe.message}`, { extensions: { code: 'BAD_USER_INPUT', statusCode: 400 } })] };
      try {
        checkCost(limits, args.schema, args.document, (args.variableValues ?? undefined) as Record<string, unknown> | undefined, args.operationName ?? undefined);
      } catch (err) {
        return { errors: [err as GraphQLError] };
      }
      return run(args);
    },
  };
}

/**
 * Subscriptions are served over WebSocket (graphql-ws, the same /graphql path); one sent over HTTP gets a 400 that
 * says so, instead of being executed as a query whose field cannot resolve (an internal error).
 */
export function subscriptionsOverWebSocketPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation === 'subscription') {
            throw new GraphQLError(
              'subscriptions are served over WebSocket (the graphql-ws protocol on this same /graphql path); send queries and mutations over HTTP',
              { extensions: { code: 'BAD_REQUEST', statusCode: 400, http: { status: 400 } } },
            );
          }
        },
      };
    },
  };
}

/** The cost check, as an Apollo plugin: it needs the variables, which validation rules do not see. */
export function costLimitPlugin(limits: GraphqlLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema }) {
          checkCost(limits, schema, document, request.variables, request.operationName ?? undefined);
        },
      };
    },
  };
}
