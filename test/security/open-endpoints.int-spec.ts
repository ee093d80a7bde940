import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { useTestApp } from '../support/app.js';

/**
 * Which endpoints answer without an API key (issue 19.8: the README said only /health while five others did). Every
 * route the HTTP server has is asked without a key, with each method it accepts; the paths that answer anything but
 * 401 must be exactly the ones the README lists as open, and the OpenAPI document must not call the key a JWT.
 */

/** Every route of the server with its methods, from Fastify's route tree. */
function routes(tree: string): { path: string; methods: string[] }[] {
  const out: { path: string; methods: string[] }[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^(.*?)(?:└──|├──) (.+) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    // A node of the radix tree holds the characters after its parent's: '/docs' then '-yaml' is /docs-yaml.
    const path = `${stack[depth - 1] ?? ''}${m[2]}`;
    stack[depth] = path;
    out.push({ path, methods: m[3]!.split(', ').filter((x) => x !== 'HEAD' && x !== 'OPTIONS') });
  }
  return out;
}

/** The paths the README lists as open: the backticked paths of its paragraph starting "Every endpoint". */
function documentedOpen(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const paragraph = /^Every endpoint needs an API key except[\s\S]*?(?:\n\n)/m.exec(readme)?.[0];
  expect(paragraph).toBeDefined();
  return [...paragraph!.matchAll(/`(\/[^`\s]*)`/g)].map((m) => m[1]!.replace(/…$/, ''));
}

describe('endpoints open without a key', () => {
  const h = useTestApp({ WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: 'open-endpoints-admin-key' });

  it('are exactly the ones the README lists', async () => {
    const fastify = h.t.app.getHttpAdapter().getInstance();
    const all = routes(fastify.printRoutes({ commonPrefix: false }));
    expect(all.length).toBeGreaterThan(40);
    const open = new Set<string>();
    for (const { path, methods } of all) {
      const url = path.replace(/:\w+/g, 'x').replace(/\*$/, 'x');
      for (const method of methods) {
        const res = await h.t.app.inject({ method: method as 'GET', url, ...(method !== 'GET' && method !== 'DELETE' && { payload: {} }) });
        // A wildcard route is probed with a made-up name ('x'): its 404 says that file does not exist, not that
        // anything is served without a key. (printRoutes without the common prefix also prints the console's
        // /assets/* as /*, so the wildcard's own path cannot be trusted to name its folder.)
        const missingFile = path.endsWith('*') && res.statusCode === 404;
        if (res.statusCode !== 401 && !missingFile) open.add(path);
      }
    }
    const documented = documentedOpen();
    // A documented folder ("/docs/", "/assets/") covers the routes under it.
    const covers = (d: string, p: string) => d === p || (d.length > 1 && d.endsWith('/') && p.startsWith(d));
    expect([...open].filter((p) => !documented.some((d) => covers(d, p)))).toEqual([]);
    // What the README lists as open is open (the console's files exist only once the console is built).
    const routed = documented.filter((d) => all.some(({ path }) => covers(d, path)));
    expect(routed.filter((d) => ![...open].some((p) => covers(d, p)))).toEqual([]);
    expect(routed).toEqual(expect.arrayContaining(['/health', '/metrics', '/api/v1/openapi.json', '/graphql']));
  });

  it('/graphql answers its schema without a key, and every field with UNAUTHENTICATED', async () => {
    const gql = (query: string) => h.t.app.inject({ method: 'POST', url: '/graphql', payload: { query } }).then((r) => r.json());
    expect((await gql('{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    for (const query of ['{ dags { totalEntries } }', '{ whoami { role } }', 'mutation { pauseDag(dagId: "x") { dagId } }']) {
      const res = await gql(query);
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('the OpenAPI document calls the key what it is, not a JWT', async () => {
    const doc = (await h.t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    expect(doc.components.securitySchemes).toEqual({ bearer: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'API key' }) });
  });
});
