import { SetMetadata } from '@nestjs/common';
import { z } from 'zod';

/**
 * The REST contract of an endpoint, beside its route: the zod schemas of its query, body and answers. The OpenAPI
 * document (openapi-document.ts) is built from these, so the published shapes are the ones the code validates
 * with. Answers are checked against the handler at compile time: @ApiContract only fits a method whose result is
 * assignable to the declared answers, so a service that changes its result type breaks the build until the
 * contract follows.
 */
export type ApiContractSpec = {
  /**
   * Path parameters whose rule differs from the one their name has everywhere else (openapi/path-params.ts), e.g.
   * `{id}`. Every path parameter is checked before the handler runs.
   */
  params?: Record<string, z.ZodType>;
  /** Query string; each top-level field becomes one query parameter. */
  query?: z.ZodType;
  body?: z.ZodType;
  /** Answers by status; `null` = no body (204). */
  responses: Partial<Record<SuccessStatus, z.ZodType | null>>;
  /** Error answers beyond the ones every endpoint has (400, 401, 403, 404, 413, 414, 415, 429: see openapi-document.ts). */
  errors?: Partial<Record<ErrorStatus, string>>;
};

/** 503 only for readiness, whose answer says what is unavailable. */
export type SuccessStatus = 200 | 201 | 204 | 503;
export type ErrorStatus = 404 | 409 | 413;

export const API_CONTRACT = 'weft:apiContract';

/** What a handler may return for these answers: the input side of each schema (a Date where the wire has a string). */
type ResultOf<R extends ApiContractSpec['responses']> = {
  [S in keyof R]: R[S] extends z.ZodType ? z.input<R[S]> : R[S] extends null ? void : never;
}[keyof R];

export function ApiContract<const R extends ApiContractSpec['responses']>(
  spec: Omit<ApiContractSpec, 'responses'> & { responses: R },
): <M extends (...args: never[]) => ResultOf<R> | Promise<ResultOf<R>>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void {
  return (target, key, descriptor) => {
    SetMetadata(API_CONTRACT, spec)(target, key, descriptor);
  };
}

/** Names of component schemas (`#/components/schemas/<name>`); a schema without a name is written inline. */
export type SchemaMeta = {
  name: string;
  description?: string;
  example?: unknown;
  /** Read the schema on this side wherever it appears (a request shape that answers echo back). */
  io?: 'input' | 'output';
};
const names = new WeakMap<z.ZodType, SchemaMeta>();

export function named<T extends z.ZodType>(name: string, schema: T, meta: Omit<SchemaMeta, 'name'> = {}): T {
  names.set(schema, { name, ...meta });
  return schema;
}

export function schemaName(schema: z.ZodType): SchemaMeta | undefined {
  return names.get(schema);
}

/** A timestamp: a Date in the service, an ISO 8601 string on the wire (both satisfy it; documented as date-time). */
export const timestamp = z.union([z.date(), z.iso.datetime({ offset: true })]);

/** Any JSON value (XCom values, conf, params): documented as a schema without constraints. */
export const anyJson = z.unknown();

export const jsonObject = z.record(z.string(), z.unknown());

/** The envelope of every paginated list. */
export function page<T extends z.ZodType>(name: string, item: T) {
  return named(
    name,
    z.object({
      items: z.array(item),
      totalEntries: z.int().describe('Number of items matching the filters, over all pages'),
      limit: z.int(),
      offset: z.int(),
    }),
  );
}
