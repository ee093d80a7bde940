import { describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { useTestApp } from '../support/app.js';
import { collect, wsClient } from '../support/ws.js';

/**
 * GraphQL operations over their limits are refused before anything runs (no database work), with a GraphQL error
 * naming the limit; and a client hammering GraphQL does not keep another client's REST calls from being answered.
 */
describe('GraphQL limits', () => {
  // Low depth and cost limits (defaults 12 and 100,000), so that the schema's deepest selection (a run's task instances' tries) is over it.
  const h = useTestApp({ WEFT_RATE_LIMIT_PER_SEC: '0', WEFT_GRAPHQL_MAX_DEPTH: '3', WEFT_GRAPHQL_MAX_COST: '20000' });
  const post = async (base: string, query: string, variables?: Record<string, unknown>) => {
    const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('refuses token and alias floods, deep nesting, huge limits and unsafe strings before execution', async () => {
    const base = await h.t.listen();
    const flood = `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: dags(limit: 1000) { items { dagId } }`).join(' ')} }`;
    const aliases = `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: dags(limit: 1) { totalEntries }`).join(' ')} }`;
    const huge = `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: dags(limit: 1000) { items { dagId } }`).join(' ')} }`;
    const deep = `{ dagRuns(dagId: "x") { items { taskInstances { tries { tryNumber } } } } }`;
    const cases: [string, string, Record<string, unknown> | undefined, RegExp][] = [
      ['token flood (500 aliases, 7,002 tokens)', flood, undefined, /^the document has more than 2000 tokens \(WEFT_GRAPHQL_MAX_TOKENS\): send a smaller one$/],
      ['alias flood', aliases, undefined, /Aliases limit of 20 exceeded, found 30/],
      ['huge limits', huge, undefined, /costs 40020, over the limit of 20000/],
      ['deep nesting (4 levels below the root, limit 3 here)', deep, undefined, /depth/i],
      ['NUL in a literal', '{ dag(dagId: "a\\u0000b") { dagId } }', undefined, /NUL/],
    ];
    for (const [name, query, variables, message] of cases) {
      const started = performance.now();
      const res = await post(base, query, variables);
      expect({ name, status: res.status, data: res.body.data ?? null }).toEqual({ name, status: 400, data: null });
      expect(res.body.errors[0].message).toMatch(message);
      expect(res.body.errors[0].extensions.statusCode).toBe(400);
      console.log(`${name}: refused in ${(performance.now() - started).toFixed(1)} ms`);
    }
    // The same token limit over the WebSocket (graphql-ws parses on its own).
    const client = wsClient(base);
    const sub = collect(client, flood.replace(/^\{/, 'subscription {'));
    await sub.done;
    expect(JSON.stringify(sub.failure)).toContain('more than 2000 tokens (WEFT_GRAPHQL_MAX_TOKENS)');
    await client.dispose();
    const variable = await post(base, 'query($id: ID!) { dag(dagId: $id) { dagId } }', { id: 'a\u0000b' });
    expect(variable.status).toBe(400);
    expect(variable.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', statusCode: 400 });
  });

  it('keeps answering REST for one client while another hammers GraphQL', async () => {
    const base = `http://127.0.0.1:${(h.t.app.getHttpServer().address() as { port: number }).port}`;
    await fetch(`${base}/api/v1/dags`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dagId: 'busy', tasks: [{ taskId: 't', type: 'noop' }] }),
    });
    // Within the limits (cost 18,006) but as much as one request may ask; the other one is over them.
    const heavy = `{ ${Array.from({ length: 6 }, (_, i) => `a${i}: dags(limit: 1000) { items { dagId isPaused } }`).join(' ')} }`;
    const over = `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: dags(limit: 1000) { items { dagId } }`).join(' ')} }`;
    let stop = false;
    const hammer = async () => {
      let n = 0;
      while (!stop) {
        await post(base, n++ % 2 ? heavy : over);
      }
      return n;
    };
    const hammers = Array.from({ length: 4 }, hammer);
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const res = await fetch(`${base}/api/v1/dags/busy`);
      expect(res.status).toBe(200);
      latencies.push(performance.now() - started);
    }
    stop = true;
    const sent = (await Promise.all(hammers)).reduce((a, b) => a + b, 0);
    latencies.sort((a, b) => a - b);
    console.log(
      `REST under GraphQL load (${sent} GraphQL requests from 4 loops): p50 ${latencies[10]!.toFixed(1)} ms, p95 ${latencies[18]!.toFixed(1)} ms, max ${latencies[19]!.toFixed(1)} ms`,
    );
    expect(latencies).toHaveLength(20);
  });
});
