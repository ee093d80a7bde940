import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { DECORATORS, DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { Role } from '../auth/domain/api-key.js';
import { PUBLIC_KEY, ROLES_KEY, roleAllows } from '../access/roles.decorator.js';
import { dagDocumentDocs } from '../dags/domain/dag-document.schema.js';
import { MAX_PARAM_LENGTH } from '../common/http-edge.js';
import { API_CONTRACT, type ApiContractSpec } from './contract.js';
import { pathParamSchema } from './path-params.js';
import { errorBody } from './schemas/common.js';
import { dagDocument } from './schemas/dags.js';
import { ComponentSchemas, type JsonSchema } from './zod-to-openapi.js';

export const API_VERSION = '0.1.0';

const TAGS: [string, string][] = [
  ['dags', 'DAG registration, versions and schedules'],
  ['dagRuns', 'Runs, task instances and run control (trigger, clear, mark)'],
  ['leases', 'The worker lease protocol (long-poll, heartbeat, complete, logs), XCom and logs'],
  ['backfills', 'Backfills of a date range'],
  ['pools', 'Pools that cap concurrently running tasks'],
  ['datasets', 'Datasets and their update events'],
  ['alerts', 'SLA misses and alert deliveries'],
  ['apiKeys', 'API keys and roles'],
  ['audit', 'The audit log of administrative changes'],
  ['health', 'Liveness and readiness'],
];

/** The errors most endpoints share, as reusable responses (`#/components/responses/<name>`). */
const ERRORS: Record<number, { name: string; description: string }> = {
  400: { name: 'BadRequest', description: 'Invalid input: `details` lists each bad field as {path, message}' },
  401: { name: 'Unauthorized', description: 'No API key, or an unknown or revoked one' },
  403: { name: 'Forbidden', description: "The key's role (or its queue/task-type scope) does not allow this" },
  404: { name: 'NotFound', description: 'The object (or a parent in the path) does not exist' },
  413: { name: 'PayloadTooLarge', description: 'The body (or an XCom value) is over its size limit (`WEFT_BODY_LIMIT_BYTES`, `WEFT_MAX_XCOM_BYTES`); the message names the limit' },
  414: { name: 'UriTooLong', description: `A path parameter is longer than ${MAX_PARAM_LENGTH} characters (ids are 1-250)` },
  415: { name: 'UnsupportedMediaType', description: 'The body is not `application/json`' },
  429: { name: 'TooManyRequests', description: 'Over the rate limit of the key (`Retry-After` says when to come back), or too many open long polls of one worker' },
};

type Handler = { contract: ApiContractSpec | undefined; roles: Role[] | undefined; isPublic: boolean };

/**
 * The OpenAPI 3 document: paths, operation ids and tags come from the controllers (@nestjs/swagger), bodies,
 * parameters and answers from each handler's @ApiContract, security and roles from the auth decorators. Every
 * operation must have a contract when `requireContracts` (the export behind clients/openapi.json and its CI check),
 * so an endpoint cannot be published undescribed; the running service documents such an endpoint as far as
 * @nestjs/swagger can instead of refusing to start. Needs the app created, not listening or initialised.
 */
export function buildOpenApiDocument(app: INestApplication, { requireContracts = false } = {}): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Weft')
    .setDescription(
      'Workflow orchestrator API. Errors are `{statusCode, error, message, details?}`; lists are paginated with ' +
        '`limit`/`offset` and carry `totalEntries`. Workers use the lease protocol (tag `leases`). GraphQL is at `/graphql`.',
    )
    .setVersion(API_VERSION)
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .addServer('http://localhost:8080', 'A local `weft start`')
    // bearerFormat is Nest's 'JWT' unless given: a Weft key is an opaque random string.
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'API key', description: 'A Weft API key (`weft_…`, not a JWT): `Authorization: Bearer <key>`' },
      'bearer',
    )
    .addSecurityRequirements('bearer');
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build());

  const handlers = collectHandlers(app);
  const schemas = new ComponentSchemas();
  schemas.useMetadata(dagDocument, dagDocumentDocs);
  const errorRef = schemas.ref(errorBody, 'output');

  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'put', 'post', 'patch', 'delete'] as const) {
      const op = item[method];
      if (!op) continue;
      const id = op.operationId ?? `${method} ${path}`;
      const handler = handlers.get(id);
      if (!handler?.contract) {
        if (requireContracts) throw new Error(`OpenAPI: ${method.toUpperCase()} ${path} (${id}) has no @ApiContract`);
        continue;
      }
      const { contract, roles, isPublic } = handler;
      const pascal = id.charAt(0).toUpperCase() + id.slice(1);
      const pathParams = (op.parameters ?? []).filter((p): p is Extract<typeof p, { in: string }> => 'in' in p && p.in === 'path');
      op.parameters = [
        ...pathParams.map((p) => {
          const rule = pathParamSchema(p.name, contract.params);
          if (!rule) throw new Error(`OpenAPI: path parameter {${p.name}} of ${method.toUpperCase()} ${path} has no rule in openapi/path-params.ts`);
          const { description, ...rest } = schemas.inline(rule);
          return { ...p, ...(description ? { description: String(description) } : {}), schema: rest };
        }),
        ...(contract.query ? schemas.properties(contract.query) : []).map(({ name, required, schema }) => {
          const { description, ...rest } = schema;
          return { name, in: 'query' as const, required, ...(description ? { description: String(description) } : {}), schema: rest };
        }),
      ];
      if (contract.body) {
        op.requestBody = { required: true, content: { 'application/json': { schema: schemas.ref(contract.body, 'input', `${pascal}Request`) } } };
      } else {
        delete op.requestBody;
      }
      const responses: NonNullable<typeof op.responses> = {};
      for (const [status, schema] of Object.entries(contract.responses)) {
        responses[status] = schema
          ? { description: successText(Number(status)), content: { 'application/json': { schema: schemas.ref(schema, 'output', `${pascal}Response`) } } }
          : { description: 'Done; no body' };
      }
      const shared: number[] = [
        ...(contract.body || contract.query || pathParams.length ? [400] : []),
        ...(isPublic ? [] : [401, 403]),
        // A worker id names no stored object: leasing never answers 404.
        ...(pathParams.length && id !== 'leaseTasks' ? [404] : []),
        ...(contract.body ? [413] : []),
        ...(pathParams.length ? [414] : []),
        ...(contract.body ? [415] : []),
        ...(isPublic ? [] : [429]),
      ];
      for (const status of shared) responses[status] = { $ref: `#/components/responses/${ERRORS[status]!.name}` };
      for (const [status, description] of Object.entries(contract.errors ?? {})) {
        responses[status] = { description, content: { 'application/json': { schema: errorRef } } };
      }
      op.responses = responses;
      if (isPublic) {
        op.security = [];
      } else {
        const allowed = rolesAllowed(roles ?? ['admin']);
        (op as unknown as Record<string, unknown>)['x-weft-roles'] = allowed;
        op.description = [op.description, `Roles: ${allowed.join(', ')}.`].filter(Boolean).join('\n\n');
      }
    }
  }
  const errorResponses = Object.fromEntries(
    Object.values(ERRORS).map(({ name, description }) => [name, { description, content: { 'application/json': { schema: errorRef } } }]),
  );
  document.components = { ...document.components, schemas: schemas.all(), responses: errorResponses };
  return document;
}

/** Every role let in (roles nest: admin ⊇ operator ⊇ viewer; worker is separate, admins may use it). */
function rolesAllowed(roles: Role[]): Role[] {
  return (['admin', 'operator', 'viewer', 'worker'] as const).filter((r) => roleAllows(r, roles));
}

function successText(status: number): string {
  return status === 201 ? 'Created' : status === 503 ? 'Not ready' : 'OK';
}

/** Contract, roles and public flag of every controller method, by operation id. */
function collectHandlers(app: INestApplication): Map<string, Handler> {
  const out = new Map<string, Handler>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (!type) continue;
      const proto = type.prototype as Record<string, unknown>;
      for (const key of Object.getOwnPropertyNames(proto)) {
        const fn = proto[key];
        if (key === 'constructor' || typeof fn !== 'function') continue;
        const operation = Reflect.getMetadata(DECORATORS.API_OPERATION, fn) as { operationId?: string } | undefined;
        if (!operation?.operationId) continue;
        const meta = <T>(k: string): T | undefined => (Reflect.getMetadata(k, fn) as T | undefined) ?? (Reflect.getMetadata(k, type) as T | undefined);
        out.set(operation.operationId, {
          contract: Reflect.getMetadata(API_CONTRACT, fn) as ApiContractSpec | undefined,
          roles: meta<Role[]>(ROLES_KEY),
          isPublic: meta<boolean>(PUBLIC_KEY) === true,
        });
      }
    }
  }
  return out;
}

export type { JsonSchema };
