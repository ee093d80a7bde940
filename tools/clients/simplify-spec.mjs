// openapi-generator 4.3.1 (the newest generator that runs offline here, DESIGN §11) cannot compile unions
// (anyOf/oneOf) or object-valued defaults into Go, and turns them into awkward types in Python. This derives, from
// the published document, the view those two generators get: a union of objects becomes one object with every
// branch's fields (required: the fields all branches require), any other union becomes "any JSON value", and
// defaults that are not scalars go. clients/openapi.json (the TypeScript client's input) keeps the exact unions.

/** A deep copy of `doc` simplified for openapi-generator 4.3.1. */
export function simplifyForOpenApiGenerator(doc) {
  const out = structuredClone(doc);
  const schemas = out.components.schemas;
  const refName = (s) => (typeof s?.$ref === 'string' ? s.$ref.split('/').pop() : undefined);
  const resolve = (s) => (refName(s) ? schemas[refName(s)] : s);

  const visit = (node, depth = 0) => {
    if (depth > 100 || !node || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map((n) => visit(n, depth + 1));
    for (const [k, v] of Object.entries(node)) {
      if (k === 'example' || k === 'enum') continue;
      node[k] = k === 'properties' ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, visit(s, depth + 1)])) : visit(v, depth + 1);
    }
    if (node.default !== undefined && node.default !== null && typeof node.default === 'object') delete node.default;
    // openapi-generator 4.3.1 cannot template a null enum value; `nullable` still says null is allowed.
    if (Array.isArray(node.enum) && node.enum.includes(null)) node.enum = node.enum.filter((v) => v !== null);
    for (const key of ['anyOf', 'oneOf']) {
      const branches = node[key];
      if (!branches) continue;
      delete node[key];
      const resolved = branches.map(resolve);
      // OpenAPI 3.0 writes `T | null` as a nullable branch; the simplified node keeps that null is allowed.
      if (resolved.some((b) => b?.nullable)) node.nullable = true;
      if (resolved.every((b) => b && (b.type === 'object' || b.properties))) {
        const merged = mergeObjects(resolved);
        const names = branches.map(refName);
        const name = names.every(Boolean) ? commonSuffix(names) : undefined;
        if (name && !schemas[name]) {
          schemas[name] = { description: `Any of: ${names.join(', ')} (merged for this generator; see clients/openapi.json for the exact union).`, ...merged };
          node.$ref = `#/components/schemas/${name}`;
        } else {
          Object.assign(node, merged);
        }
      }
      // Otherwise (e.g. a string or an object): no type at all, i.e. any JSON value.
    }
    return node;
  };

  for (const name of Object.keys(schemas)) schemas[name] = visit(schemas[name]);
  out.paths = visit(out.paths);
  return out;
}

function mergeObjects(branches) {
  const properties = {};
  for (const b of branches) {
    for (const [name, schema] of Object.entries(b.properties ?? {})) {
      properties[name] = name in properties ? mergeProperty(properties[name], schema) : schema;
    }
  }
  const required = Object.keys(properties).filter((p) => branches.every((b) => (b.required ?? []).includes(p)));
  return { type: 'object', properties, ...(required.length ? { required } : {}) };
}

/** Two branches' versions of one field: equal ones stay; strings keep only what both allow; anything else is any. */
function mergeProperty(a, b) {
  if (JSON.stringify(a) === JSON.stringify(b)) return a;
  if (a.type === 'string' && b.type === 'string') {
    const enumOf = (s) => s.enum;
    const description = a.description ?? b.description;
    const both = enumOf(a) && enumOf(b) ? { enum: [...new Set([...a.enum, ...b.enum])] } : {};
    return { type: 'string', ...(description ? { description } : {}), ...both };
  }
  return { description: a.description ?? b.description };
}

/** ShellTask, HttpTask, … → Task; nothing shorter than 3 characters. */
function commonSuffix(names) {
  let suffix = names[0];
  for (const n of names) while (!n.endsWith(suffix)) suffix = suffix.slice(1);
  const capital = suffix.search(/[A-Z]/);
  const name = capital >= 0 ? suffix.slice(capital) : '';
  return name.length >= 3 ? name : undefined;
}
