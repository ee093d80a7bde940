import { z } from 'zod';
import { schemaName } from './contract.js';

export type JsonSchema = { [keyword: string]: unknown };
export type Io = 'input' | 'output';

const REF_PREFIX = '#/components/schemas/';
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

type ConvertOptions = {
  /** A registry whose descriptions and ids the schema carries instead of zod's global one (the DAG document's). */
  metadata?: z.core.$ZodRegistry<Record<string, unknown>>;
};

/**
 * Turns zod schemas into OpenAPI 3.0 component schemas. A schema given a name with `named()` becomes one component,
 * referenced by `$ref` wherever it appears; request schemas are read on their input side (what clients send, defaults
 * optional), answers on their output side. Answers omit `additionalProperties: false`: fields may be added later.
 */
export class ComponentSchemas {
  private readonly components = new Map<string, { schema: z.ZodType; io: Io; json: JsonSchema }>();
  private readonly metadataOf = new Map<z.ZodType, ConvertOptions['metadata']>();
  /** Unnamed schemas written under a fallback name (a body under its operation's name), to catch one used twice. */
  private readonly fallbackNames = new Map<z.ZodType, string>();

  /** Converts with another metadata registry (and lifts the schemas it names into components). */
  useMetadata(schema: z.ZodType, metadata: NonNullable<ConvertOptions['metadata']>): void {
    this.metadataOf.set(schema, metadata);
  }

  /** A `$ref` to the schema's component (converting it once), or the schema inline when it has no name. */
  ref(schema: z.ZodType, io: Io, fallbackName?: string): JsonSchema {
    const name = schemaName(schema)?.name ?? fallbackName;
    if (!name) return this.convert(schema, io);
    if (!schemaName(schema) && fallbackName) {
      // Two operations with one unnamed body would give clients two models of one shape (SetXcomEntryRequest and
      // SetMappedXcomEntryRequest): the schema needs one name of its own.
      const earlier = this.fallbackNames.get(schema);
      if (earlier !== undefined && earlier !== fallbackName) {
        throw new Error(`OpenAPI: one unnamed schema is written both as '${earlier}' and as '${fallbackName}'; give it a name with named()`);
      }
      this.fallbackNames.set(schema, fallbackName);
    }
    this.define(name, schema, io);
    return { $ref: `${REF_PREFIX}${name}` };
  }

  /** A schema read as input, written inline (a path parameter). */
  inline(schema: z.ZodType): JsonSchema {
    return this.convert(schema, 'input');
  }

  /** Each top-level property of an object schema (read as input): query parameters. */
  properties(schema: z.ZodType): { name: string; required: boolean; schema: JsonSchema }[] {
    const json = this.convert(schema, 'input');
    const required = new Set((json.required as string[] | undefined) ?? []);
    return Object.entries((json.properties as Record<string, JsonSchema>) ?? {}).map(([name, s]) => ({ name, required: required.has(name), schema: s }));
  }

  /** Every component, sorted by name. */
  all(): Record<string, JsonSchema> {
    return Object.fromEntries([...this.components.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, c]) => [name, c.json]));
  }

  private define(name: string, schema: z.ZodType, requested: Io): void {
    const io = schemaName(schema)?.io ?? requested;
    const existing = this.components.get(name);
    if (existing) {
      if (existing.schema !== schema) throw new Error(`OpenAPI: two different schemas are named '${name}'`);
      if (existing.io !== io && JSON.stringify(this.convert(schema, io)) !== JSON.stringify(this.convert(schema, existing.io))) {
        throw new Error(`OpenAPI: schema '${name}' is used both as a request and as an answer and differs between the two; name each side`);
      }
      return;
    }
    const placeholder = { schema, io, json: {} as JsonSchema };
    this.components.set(name, placeholder);
    const meta = schemaName(schema);
    placeholder.json = { ...this.convert(schema, io), ...(meta?.description ? { description: meta.description } : {}), ...(meta?.example === undefined ? {} : { example: meta.example }) };
  }

  private convert(root: z.ZodType, io: Io): JsonSchema {
    const metadata = this.metadataOf.get(root);
    const json = z.toJSONSchema(root, {
      target: 'openapi-3.0',
      io,
      unrepresentable: 'any',
      ...(metadata ? { metadata } : {}),
      override: (ctx) => {
        const s = ctx.zodSchema as unknown as z.ZodType;
        const def = s._zod.def as { type: string; options?: z.ZodType[] };
        const nested = s !== root ? schemaName(s) : undefined;
        if (nested) return replace(ctx.jsonSchema, { $ref: `${REF_PREFIX}${nested.name}` }, () => this.define(nested.name, s, io));
        // Timestamps: a Date (or an ISO string) in the service, a date-time string on the wire.
        if (def.type === 'date' || (def.type === 'union' && def.options?.some((o) => o._zod.def.type === 'date'))) {
          return replace(ctx.jsonSchema, { type: 'string', format: 'date-time', ...pick(ctx.jsonSchema, 'description') });
        }
        // z.json() is a recursive lazy union: any JSON value, which OpenAPI 3.0 says with an empty schema.
        if (def.type === 'lazy') return replace(ctx.jsonSchema, { ...pick(ctx.jsonSchema, 'description') });
      },
    }) as JsonSchema;
    delete json.$schema;
    const definitions = (json.definitions ?? {}) as Record<string, JsonSchema>;
    delete json.definitions;
    const refType: RefType = (ref) => (ref.startsWith(REF_PREFIX) ? this.components.get(ref.slice(REF_PREFIX.length))?.json.type : undefined);
    // Schemas named in a metadata registry come back as definitions: lift them into components.
    for (const [name, def] of Object.entries(definitions)) {
      if (!name.startsWith('__') && !this.components.has(name)) this.components.set(name, { schema: root, io, json: tidy(def, io, definitions, refType) });
    }
    return tidy(json, io, definitions, refType);
  }
}

function replace(target: JsonSchema, next: JsonSchema, after?: () => void): void {
  for (const key of Object.keys(target)) delete target[key];
  Object.assign(target, next);
  after?.();
}

/** The `type` of the component a `$ref` points to, when it is known. */
type RefType = (ref: string) => unknown;

function pick(s: JsonSchema, key: string): JsonSchema {
  return s[key] === undefined ? {} : { [key]: s[key] };
}

/**
 * Rewrites one converted schema for OpenAPI: `#/definitions/x` refs become component refs (zod's anonymous ones
 * are inlined), and noise that generators trip over goes (bounds of ±2^53, a date-time's pattern, and on answers
 * `additionalProperties: false`).
 */
function tidy(node: unknown, io: Io, definitions: Record<string, JsonSchema>, refType: RefType, depth = 0): JsonSchema {
  if (depth > 200) throw new Error('OpenAPI: schema nests too deeply (a recursive anonymous schema?)');
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return tidy(v, io, definitions, refType, depth + 1);
    return v;
  };
  const s = { ...(node as JsonSchema) };
  if (typeof s.$ref === 'string' && s.$ref.startsWith('#/definitions/')) {
    const name = s.$ref.slice('#/definitions/'.length);
    if (name.startsWith('__')) return tidy(definitions[name], io, definitions, refType, depth + 1);
    s.$ref = `${REF_PREFIX}${name}`;
  }
  delete s.$id;
  // `default: null` says nothing a nullable field does not, and older generators reject it on typed fields.
  if (s.default === null) delete s.default;
  if (s.maximum === MAX_SAFE) delete s.maximum;
  if (s.minimum === -MAX_SAFE) delete s.minimum;
  if (s.format === 'date-time' || s.format === 'uuid') delete s.pattern;
  // OpenAPI 3.0 has `example`, not JSON Schema's `examples`.
  if (Array.isArray(s.examples)) {
    s.example ??= s.examples[0];
    delete s.examples;
  }
  if (io === 'output' && s.additionalProperties === false) delete s.additionalProperties;
  // OpenAPI 3.0.3: a nullable enum must list null among its values, or null is not one of them.
  if (s.nullable === true && Array.isArray(s.enum) && !s.enum.includes(null)) s.enum = [...(s.enum as unknown[]), null];
  // OpenAPI 3.0 ignores `nullable` without `type`: a nullable union says so on a typed branch.
  if (s.nullable === true && s.type === undefined && Array.isArray(s.anyOf)) {
    const branches = s.anyOf as JsonSchema[];
    const typed = branches.findIndex((b) => b.type !== undefined);
    s.anyOf = typed >= 0 ? branches.map((b, i) => (i === typed ? { ...b, nullable: true } : b)) : [...branches, { type: 'string', nullable: true, enum: [null] }];
    delete s.nullable;
  }
  // Likewise beside a lone allOf (a nullable named schema): the type is the referenced component's.
  if (s.nullable === true && s.type === undefined && Array.isArray(s.allOf) && s.allOf.length === 1) {
    const ref = (s.allOf[0] as JsonSchema).$ref;
    const type = typeof ref === 'string' ? refType(ref) : undefined;
    if (type !== undefined) s.type = type;
  }
  if (Array.isArray(s.allOf) && s.allOf.length === 1 && Object.keys(s).length === 1) return tidy(s.allOf[0], io, definitions, refType, depth + 1);
  for (const [k, v] of Object.entries(s)) {
    if (k === 'example' || k === 'examples' || k === 'default' || k === 'enum') continue;
    s[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, ps]) => [p, walk(ps)])) : walk(v);
  }
  return s;
}
