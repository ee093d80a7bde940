/**
 * The DAG of docs/examples/daily_etl.yaml, built in TypeScript.
 *   node dist/examples/daily-etl.js           prints the document
 *   node dist/examples/daily-etl.js deploy    registers it (WEFT_API_URL, WEFT_API_KEY)
 */
import { pathToFileURL } from 'node:url';
import { Dag, parallel } from '../src/index.js';

export const dag = new Dag({
  dagId: 'daily_etl',
  description: 'Extract two sources, transform them on a worker, load the result',
  schedule: '0 6 * * *',
  timezone: 'Europe/Amsterdam',
  startDate: '2024-01-01T00:00:00Z',
  catchup: false,
  tags: ['etl'],
  defaultArgs: { retries: 2, retryDelaySec: 300, owner: 'data-eng' },
});

const orders = dag.shell('extract_orders', { command: 'echo orders for {{ ds }}' });
const customers = dag.shell('extract_customers', { command: 'echo customers for {{ ds }}', env: { REGION: 'eu' } });
const transform = dag.custom('transform', 'etl.transform', { queue: 'python', args: { date: '{{ ds }}' } });
const load = dag.http('load', {
  xcomPull: ['transform'],
  request: { method: 'POST', url: 'https://warehouse.example.com/load', body: { date: '{{ ds }}' } },
  executionTimeoutSec: 600,
});
const notify = dag.noop('notify', { triggerRule: 'all_done' });

parallel(orders, customers).then(transform).then([load, notify]);

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === 'deploy') {
    const { status, version } = await dag.deploy();
    console.log(`daily_etl: ${status}, version ${version}`);
  } else {
    const problems = dag.validate();
    if (problems.length) throw new Error(problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    console.log(JSON.stringify(dag, null, 2));
  }
}
