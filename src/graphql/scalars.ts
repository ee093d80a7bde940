import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

/**
 * `DateTime`: an ISO 8601 string. Outputs are always UTC (`toISOString()`). Inputs pass through as strings and are
 * checked by the same zod schemas as REST, so a bad date is a BAD_USER_INPUT naming the field, on both transports.
 */
export const DateTimeScalar = new GraphQLScalarType<string, string>({
  name: 'DateTime',
  description: 'An ISO 8601 date-time; outputs are UTC (2024-01-15T06:00:00.000Z), inputs need an offset (Z or +01:00).',
  serialize(value) {
    const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
    // A plain Error: an unserialisable date is a bug on our side, reported as an internal error.
    if (!date || Number.isNaN(date.getTime())) throw new Error(`DateTime cannot represent ${JSON.stringify(value)}`);
    return date.toISOString();
  },
  parseValue(value) {
    if (typeof value !== 'string') throw new GraphQLError('DateTime must be a string');
    return value;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string', { nodes: ast });
    return ast.value;
  },
});

/** `JSON`: any JSON value (DAG documents, run conf, params, XCom values, dataset extras). */
export const JSONScalar = new GraphQLScalarType<unknown, unknown>({
  name: 'JSON',
  description: 'Any JSON value: object, array, string, number, boolean or null.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => literalToJson(ast, variables ?? undefined),
});

function literalToJson(ast: ValueNode, variables: Record<string, unknown> | undefined): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
    case Kind.ENUM:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((v) => literalToJson(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalToJson(f.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
  }
}
