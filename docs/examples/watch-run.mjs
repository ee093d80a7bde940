#!/usr/bin/env node
// Watches a DAG run live over GraphQL subscriptions (graphql-ws protocol) and prints one JSON line per event.
//
//   WEFT_URL=http://127.0.0.1:8080 WEFT_API_KEY=weft_… node docs/examples/watch-run.mjs <dagId> <runId> [afterSequence]
//
// It subscribes to the run's task-instance transitions and to the DAG's run transitions, and exits 0 when the run
// reaches success or failed (1 on an error). Needs the npm packages `graphql-ws` and `ws` (Weft's own dependencies).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [dagId, runId, after] = process.argv.slice(2);
if (!dagId || !runId) {
  console.error('usage: watch-run.mjs <dagId> <runId> [afterSequence]');
  process.exit(2);
}
const base = process.env.WEFT_URL ?? 'http://127.0.0.1:8080';
const key = process.env.WEFT_API_KEY;

const client = createClient({
  url: `${base.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket,
  // Authentication happens once, at connection_init.
  connectionParams: key ? { authorization: `Bearer ${key}` } : {},
});

const tasks = client.iterate({
  query: `subscription ($dagId: ID!, $runId: String!, $after: Int) {
    taskInstanceStateChanged(dagId: $dagId, runId: $runId, afterSequence: $after) {
      sequence taskId previousState state tryNumber at
    }
  }`,
  // afterSequence 0 replays the run from its first event; leave it out to start from now.
  variables: { dagId, runId, after: after === undefined ? 0 : Number(after) },
});
const runs = client.iterate({
  query: `subscription ($dagId: ID!) { dagRunStateChanged(dagId: $dagId, afterSequence: 0) { sequence runId previousState state } }`,
  variables: { dagId },
});

async function print(iterator, field, onEvent) {
  for await (const result of iterator) {
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    const event = result.data[field];
    console.log(JSON.stringify({ [field]: event }));
    if (onEvent(event)) return;
  }
}

try {
  const taskEvents = print(tasks, 'taskInstanceStateChanged', () => false);
  const runEnded = print(runs, 'dagRunStateChanged', (e) => e.runId === runId && (e.state === 'success' || e.state === 'failed'));
  await Promise.race([taskEvents, runEnded]);
  // The run's last task events were committed with its final state: give them a moment to arrive.
  await new Promise((resolve) => setTimeout(resolve, 500));
  process.exitCode = 0;
} catch (err) {
  console.error(Array.isArray(err) ? JSON.stringify(err) : String(err?.message ?? err?.reason ?? err));
  process.exitCode = 1;
} finally {
  await tasks.return?.();
  await runs.return?.();
  await client.dispose();
}
