import { describe, expect, it } from '@jest/globals';
import { MAX_TASKS_PER_DAG } from './limits.js';
import { validateDagDocument, type DagValidationChecks, type DagValidationIssue } from './validate-dag.js';

const checks: DagValidationChecks = {
  validateSchedule: (expr) =>
    /^@(once|hourly|daily|weekly|monthly|yearly)$/.test(expr) || expr.trim().split(/\s+/).length === 5
      ? null
      : `invalid cron expression '${expr}': expected 5 fields`,
  validateTimezone: (tz) => (['UTC', 'Europe/Amsterdam'].includes(tz) ? null : `unknown time zone '${tz}'`),
};

/** DESIGN §2's example, comments removed and placeholders made real. */
function designExample(): Record<string, unknown> {
  return {
    dagId: 'daily_etl',
    description: 'Loads the daily events into the warehouse.',
    schedule: '0 6 * * *',
    timezone: 'Europe/Amsterdam',
    startDate: '2024-01-01T00:00:00Z',
    endDate: null,
    catchup: true,
    maxActiveRuns: 3,
    maxActiveTasks: 16,
    params: { region: 'eu' },
    defaultArgs: {
      retries: 3,
      retryDelaySec: 300,
      retryExponentialBackoff: true,
      maxRetryDelaySec: 3600,
      executionTimeoutSec: 3600,
      pool: 'default_pool',
      queue: 'default',
      owner: 'data-eng',
    },
    slaCallbacks: [
      { type: 'webhook', url: 'https://hooks.example.com/weft' },
      { type: 'slack', webhookUrl: 'https://hooks.slack.com/services/T000/B000/XXX' },
      { type: 'email', to: ['oncall@example.com'] },
    ],
    tasks: [
      { taskId: 'extract', type: 'shell', command: 'extract.sh --date {{ ds }}' },
      {
        taskId: 'load',
        type: 'http',
        request: { method: 'POST', url: 'https://warehouse.example.com/load', body: { date: '{{ ds }}' } },
        dependsOn: ['extract'],
        triggerRule: 'all_success',
        pool: 'db_pool',
        poolSlots: 1,
        priorityWeight: 10,
        sla: 'PT2H',
        outlets: ['warehouse.events'],
      },
      { taskId: 'wait_hourly', type: 'external_task', externalDagId: 'hourly_etl', externalTaskId: null },
      { taskId: 'score', type: 'ml.score', queue: 'gpu', args: { model: 'v3', date: '{{ ds }}' } },
    ],
  };
}

function minimal(tasks: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { dagId: 'd', tasks, ...extra };
}

function errorsOf(input: unknown): DagValidationIssue[] {
  const result = validateDagDocument(input, checks);
  if (result.ok) throw new Error('expected the document to be rejected');
  return result.errors;
}

/** Asserts an issue at exactly `path` whose message contains `text`. */
function expectIssue(errors: DagValidationIssue[], path: string, text: string): void {
  expect(errors).toEqual(expect.arrayContaining([{ path, message: expect.stringContaining(text) }]));
}

const chain = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ taskId: `t${i}`, type: 'noop', dependsOn: i === 0 ? [] : [`t${i - 1}`] }));

describe(validateDagDocument.name, () => {
  describe('accepts', () => {
    it.each(['.hidden', 'v1.2', 'a..b', 'trailing.', '-', '_'])('ids with dots that are not only dots (%p)', (id) => {
      const result = validateDagDocument(minimal([{ taskId: id, type: 'noop', pool: id }], { dagId: id }), checks);
      expect(result.ok ? [] : result.errors).toEqual([]);
    });

    it('the full example of DESIGN §2, with defaults applied', () => {
      const result = validateDagDocument(designExample(), checks);
      if (!result.ok) throw new Error(JSON.stringify(result.errors));
      const { dag } = result;
      expect(dag.defaultArgs).toEqual({
        retries: 3,
        retryDelaySec: 300,
        retryExponentialBackoff: true,
        maxRetryDelaySec: 3600,
        executionTimeoutSec: 3600,
        pool: 'default_pool',
        queue: 'default',
        owner: 'data-eng',
        priorityWeight: 1,
        poolSlots: 1,
      });
      expect(dag.tasks[0]).toEqual({
        taskId: 'extract',
        type: 'shell',
        command: 'extract.sh --date {{ ds }}',
        dependsOn: [],
        triggerRule: 'all_success',
      });
      expect(dag.tasks[2]).toMatchObject({
        externalTaskId: null,
        allowedStates: ['success'],
        failedStates: ['failed', 'upstream_failed'],
        pokeIntervalSec: 60,
      });
      expect(dag.tasks[3]).toMatchObject({ type: 'ml.score', queue: 'gpu', args: { model: 'v3', date: '{{ ds }}' } });
    });

    it('a minimal document, filling every documented default', () => {
      const result = validateDagDocument(minimal([{ taskId: 'only', type: 'noop' }]), checks);
      expect(result).toEqual({
        ok: true,
        dag: {
          dagId: 'd',
          schedule: null,
          timezone: 'UTC',
          startDate: null,
          endDate: null,
          catchup: true,
          maxActiveRuns: 16,
          maxActiveTasks: 16,
          params: {},
          tags: [],
          defaultArgs: {
            retries: 0,
            retryDelaySec: 300,
            retryExponentialBackoff: false,
            pool: 'default_pool',
            queue: 'default',
            priorityWeight: 1,
            poolSlots: 1,
          },
          slaCallbacks: [],
          onFailureCallbacks: [],
          tasks: [{ taskId: 'only', type: 'noop', dependsOn: [], triggerRule: 'all_success' }],
        },
      });
    });

    it('a dataset schedule without startDate, defaulting mode to all', () => {
      const result = validateDagDocument(
        minimal([{ taskId: 'a', type: 'noop' }], { schedule: { datasets: ['s3://bucket/events'] } }),
        checks,
      );
      expect(result.ok && result.dag.schedule).toEqual({ datasets: ['s3://bucket/events'], mode: 'all' });
    });

    it('every built-in task type with its optional fields', () => {
      const result = validateDagDocument(
        minimal([
          { taskId: 'sh', type: 'shell', command: 'echo hi', env: { A: '1' }, cwd: '/tmp', retries: 2, doc: 'says hi' },
          {
            taskId: 'web',
            type: 'http',
            request: { method: 'GET', url: 'http://localhost:8080/x?d={{ ds }}', headers: { Accept: 'a' }, expectStatus: [200, 204] },
          },
          { taskId: 'q', type: 'sql', sql: 'select 1', connection: 'postgres://db/x', dependsOn: ['sh', 'web'] },
          {
            taskId: 'ext',
            type: 'external_task',
            externalDagId: 'other',
            externalTaskId: 'final',
            executionDeltaSec: -3600,
            allowedStates: ['success', 'skipped'],
            failedStates: ['failed'],
            timeoutSec: 600,
            pokeIntervalSec: 30,
          },
          { taskId: 'n', type: 'noop', dependsOn: ['q', 'ext'], triggerRule: 'none_failed', xcomPull: ['sh', 'q'] },
        ]),
        checks,
      );
      expect(result.ok).toBe(true);
    });

    it('a 1,000-task chain', () => {
      const result = validateDagDocument(minimal(chain(MAX_TASKS_PER_DAG)), checks);
      expect(result.ok && result.dag.tasks).toHaveLength(MAX_TASKS_PER_DAG);
    });

    it('xcomPull naming a transitive ancestor', () => {
      const tasks = chain(5);
      Object.assign(tasks[4], { xcomPull: ['t0', 't3'] });
      expect(validateDagDocument(minimal(tasks), checks).ok).toBe(true);
    });
  });

  describe('rejects the document', () => {
    it.each([null, [], 'daily_etl', 42])('when it is not an object (%p)', (input) => {
      expect(errorsOf(input)).toEqual([{ path: '', message: expect.stringContaining('expected an object') }]);
    });

    it.each(['daily etl', 'a/b', '', 'x'.repeat(251)])('with a dagId outside [A-Za-z0-9_.-]{1,250} (%p)', (dagId) => {
      expectIssue(errorsOf({ ...designExample(), dagId }), 'dagId', 'letters, digits');
    });

    // '.' and '..' are URL dot-segments, which clients remove from a path: such an id could never be addressed.
    it.each(['.', '..', '...'])('with an id made only of dots (%p), wherever an id goes, saying why', (dots) => {
      const why = 'must not be made only of dots';
      expectIssue(errorsOf({ ...designExample(), dagId: dots }), 'dagId', why);
      expectIssue(errorsOf(minimal([{ taskId: dots, type: 'noop' }])), 'tasks[0].taskId', why);
      expectIssue(errorsOf(minimal([{ taskId: 't', type: dots }])), 'tasks[0].type', why);
      expectIssue(errorsOf(minimal([{ taskId: 't', type: 'noop', pool: dots, queue: dots }])), 'tasks[0].pool', why);
      expectIssue(errorsOf(minimal([{ taskId: 't', type: 'noop', queue: dots }])), 'tasks[0].queue', why);
      expectIssue(errorsOf(minimal([{ taskId: 't', type: 'noop', dependsOn: [dots] }])), 'tasks[0].dependsOn[0]', why);
      expectIssue(errorsOf(minimal([{ taskId: 't', type: 'noop', xcomPull: [dots] }])), 'tasks[0].xcomPull[0]', why);
      expectIssue(errorsOf(minimal([{ taskId: 't', type: 'noop', group: dots }], { groups: [{ groupId: 'g' }] })), 'tasks[0].group', why);
      expectIssue(errorsOf(minimal([{ taskId: 't', type: 'noop' }], { groups: [{ groupId: dots }] })), 'groups[0].groupId', why);
      expectIssue(errorsOf({ ...designExample(), defaultArgs: { pool: dots } }), 'defaultArgs.pool', why);
      expectIssue(
        errorsOf(minimal([{ taskId: 't', type: 'external_task', externalDagId: dots, externalTaskId: dots }])),
        'tasks[0].externalDagId',
        why,
      );
      // Only the dot rule is said: each dot is an allowed character.
      expect(errorsOf({ ...designExample(), dagId: dots })).toEqual([{ path: 'dagId', message: expect.not.stringContaining('letters, digits') }]);
    });

    it('without tasks, or with none, or with more than the limit', () => {
      expectIssue(errorsOf({ dagId: 'd' }), 'tasks', "missing required field 'tasks'");
      expectIssue(errorsOf(minimal([])), 'tasks', 'at least 1 item');
      expectIssue(errorsOf(minimal(chain(MAX_TASKS_PER_DAG + 1))), 'tasks', `at most ${MAX_TASKS_PER_DAG} items`);
    });

    it('with an unknown top-level field, suggesting the likely one', () => {
      expect(errorsOf({ ...designExample(), schedul: '@daily' })).toEqual([
        { path: 'schedul', message: "unknown field 'schedul' (did you mean 'schedule'?)" },
      ]);
    });

    it('with an unknown task field', () => {
      const doc = designExample();
      (doc.tasks as Array<Record<string, unknown>>)[0].retires = 3;
      expect(errorsOf(doc)).toEqual([
        { path: 'tasks[0].retires', message: "unknown field 'retires' (did you mean 'retries'?)" },
      ]);
    });

    it('with unknown fields in nested objects', () => {
      const errors = errorsOf(
        minimal([{ taskId: 'a', type: 'http', request: { method: 'GET', url: 'https://x.example', header: {} } }], {
          defaultArgs: { retry_delay_sec: 5 },
        }),
      );
      expectIssue(errors, 'tasks[0].request.header', "did you mean 'headers'?");
      expectIssue(errors, 'defaultArgs.retry_delay_sec', "did you mean 'retryDelaySec'?");
    });

    it('with a shell task giving both command and argv', () => {
      expect(errorsOf(minimal([{ taskId: 'a', type: 'shell', command: 'true', argv: ['true'] }]))).toEqual([
        { path: 'tasks[0].argv', message: 'give command (run by /bin/sh) or argv (run without a shell), not both' },
      ]);
    });

    it('with a shell task without command, at that field only', () => {
      expect(errorsOf(minimal([{ taskId: 'a', type: 'shell' }]))).toEqual([
        { path: 'tasks[0].command', message: "missing required field 'command' (or give argv, run without a shell)" },
      ]);
    });

    it.each([
      [{ taskId: 'a', type: 'http' }, 'tasks[0].request', "missing required field 'request'"],
      [{ taskId: 'a', type: 'http', request: { method: 'FETCH', url: 'https://x.example' } }, 'tasks[0].request.method', "must be one of 'GET'"],
      [{ taskId: 'a', type: 'http', request: { method: 'GET', url: 'warehouse/load' } }, 'tasks[0].request.url', 'http or https URL'],
      [{ taskId: 'a', type: 'http', request: { method: 'GET', url: 'ftp://x.example/f' } }, 'tasks[0].request.url', 'http or https URL'],
      [{ taskId: 'a', type: 'http', request: { method: 'GET', url: 'https://x.example', expectStatus: [700] } }, 'tasks[0].request.expectStatus[0]', 'at most 599'],
      [{ taskId: 'a', type: 'sql' }, 'tasks[0].sql', "missing required field 'sql'"],
      [{ taskId: 'a', type: 'sql', sql: '' }, 'tasks[0].sql', 'must not be empty'],
      [{ taskId: 'a', type: 'external_task' }, 'tasks[0].externalDagId', "missing required field 'externalDagId'"],
      [{ taskId: 'a', type: 'external_task', externalDagId: 'x', allowedStates: ['done'] }, 'tasks[0].allowedStates[0]', "must be one of 'success'"],
      [{ taskId: 'a', type: 'noop', command: 'x' }, 'tasks[0].command', "unknown field 'command'"],
      [{ taskId: 'a', type: 'ml.score', args: 'v3' }, 'tasks[0].args', "expected an object, got 'v3'"],
      [{ taskId: 'a' }, 'tasks[0].type', "missing required field 'type'"],
      [{ taskId: 'a', type: 'my type' }, 'tasks[0].type', 'letters, digits'],
      [{ type: 'noop' }, 'tasks[0].taskId', "missing required field 'taskId'"],
      [{ taskId: 'a b', type: 'noop' }, 'tasks[0].taskId', 'letters, digits'],
      ['extract', 'tasks[0]', "expected an object, got 'extract'"],
    ])('with a malformed task %j', (task, path, text) => {
      expectIssue(errorsOf(minimal([task])), path, text);
    });

    it('with an unknown trigger rule', () => {
      expect(errorsOf(minimal([{ taskId: 'a', type: 'noop', triggerRule: 'all_sucess' }]))).toEqual([
        {
          path: 'tasks[0].triggerRule',
          message: expect.stringMatching(/^must be one of 'all_success', .*'none_failed_min_one_success', got 'all_sucess' \(did you mean 'all_success'\?\)$/),
        },
      ]);
    });

    it.each([
      [{ retries: -1 }, 'tasks[0].retries', 'at least 0'],
      [{ retries: 101 }, 'tasks[0].retries', 'at most 100'],
      [{ retries: 1.5 }, 'tasks[0].retries', 'integer'],
      [{ retries: '3' }, 'tasks[0].retries', "expected a number, got '3'"],
      [{ retryDelaySec: -5 }, 'tasks[0].retryDelaySec', 'at least 0'],
      [{ executionTimeoutSec: 0 }, 'tasks[0].executionTimeoutSec', 'more than 0'],
      [{ poolSlots: 0 }, 'tasks[0].poolSlots', 'at least 1'],
      [{ priorityWeight: 1.5 }, 'tasks[0].priorityWeight', 'integer'],
      [{ pool: 'db pool' }, 'tasks[0].pool', 'letters, digits'],
      [{ sla: '2 hours' }, 'tasks[0].sla', 'ISO 8601 duration'],
      [{ sla: 'P1M' }, 'tasks[0].sla', 'ISO 8601 duration'],
      [{ sla: 'PT' }, 'tasks[0].sla', 'ISO 8601 duration'],
      [{ outlets: [''] }, 'tasks[0].outlets[0]', 'must not be empty'],
      [{ dependsOn: 'a' }, 'tasks[0].dependsOn', "expected an array, got 'a'"],
    ])('with a bad task setting %j', (setting, path, text) => {
      expectIssue(errorsOf(minimal([{ taskId: 't', type: 'noop', ...setting }])), path, text);
    });

    it.each([
      [{ retries: -1 }, 'defaultArgs.retries', 'at least 0'],
      [{ maxRetryDelaySec: -1 }, 'defaultArgs.maxRetryDelaySec', 'at least 0'],
      [{ retryExponentialBackoff: 'yes' }, 'defaultArgs.retryExponentialBackoff', 'expected a boolean'],
      [{ queue: '' }, 'defaultArgs.queue', 'letters, digits'],
    ])('with bad defaultArgs %j', (defaultArgs, path, text) => {
      expectIssue(errorsOf({ ...designExample(), defaultArgs }), path, text);
    });

    it.each([
      [{ maxActiveRuns: 0 }, 'maxActiveRuns', 'at least 1'],
      [{ maxActiveRuns: 1001 }, 'maxActiveRuns', 'at most 1000'],
      [{ maxActiveTasks: 10_001 }, 'maxActiveTasks', 'at most 10000'],
      [{ catchup: 'no' }, 'catchup', 'expected a boolean'],
      [{ params: [] }, 'params', 'expected an object'],
      [{ tags: ['etl', ''] }, 'tags[1]', 'must not be empty'],
      [{ startDate: '2024-01-01T00:00:00' }, 'startDate', 'UTC offset'],
      [{ startDate: '2024-01-01' }, 'startDate', 'UTC offset'],
      [{ endDate: 'tomorrow' }, 'endDate', 'UTC offset'],
      [{ schedule: 5 }, 'schedule', 'cron or preset string, null, or a dataset condition'],
      [{ schedule: '' }, 'schedule', 'must not be empty'],
      [{ schedule: { datasets: [] } }, 'schedule.datasets', 'at least 1 item'],
      [{ schedule: { datasets: ['a'], mode: 'some' } }, 'schedule.mode', "must be one of 'all', 'any'"],
      [{ schedule: { dataset: ['a'] } }, 'schedule.dataset', "unknown field 'dataset' (did you mean 'datasets'?)"],
    ])('with a bad DAG setting %j', (setting, path, text) => {
      expectIssue(errorsOf({ ...designExample(), ...setting }), path, text);
    });

    it.each([
      [{ type: 'pager' }, 'slaCallbacks[0].type', "must be one of 'webhook', 'slack', 'pagerduty', 'email', got 'pager'"],
      [{ url: 'https://x.example' }, 'slaCallbacks[0].type', "missing required field 'type'"],
      [{ type: 'webhook', url: 'ftp://x.example' }, 'slaCallbacks[0].url', 'http or https URL'],
      [{ type: 'webhook' }, 'slaCallbacks[0].url', "missing required field 'url'"],
      [{ type: 'slack', webhookUrl: 'hooks' }, 'slaCallbacks[0].webhookUrl', 'http or https URL'],
      [{ type: 'email', to: [] }, 'slaCallbacks[0].to', 'at least 1 item'],
      [{ type: 'email', to: ['oncall'] }, 'slaCallbacks[0].to[0]', 'email address'],
      [{ type: 'email', to: ['a@example.com'], cc: [] }, 'slaCallbacks[0].cc', "unknown field 'cc'"],
      [{ type: 'pagerduty', routingKeyRef: 'PD', severity: 'high' }, 'slaCallbacks[0].severity', "must be one of 'critical', 'error', 'warning', 'info', got 'high'"],
      [{ type: 'pagerduty', routingKeyRef: 'PD', severity: { sla_warning: 'low' } }, 'slaCallbacks[0].severity.sla_warning', "must be one of 'critical', 'error', 'warning', 'info', got 'low'"],
      [{ type: 'pagerduty', routingKeyRef: 'PD', severity: { sla_late: 'info' } }, 'slaCallbacks[0].severity.sla_late', "unknown field 'sla_late'"],
    ])('with a bad SLA callback %j', (callback, path, text) => {
      expectIssue(errorsOf({ ...designExample(), slaCallbacks: [callback] }), path, text);
    });

    it('with a schedule the scheduler rejects, naming its reason', () => {
      expect(errorsOf({ ...designExample(), schedule: '0 6 * *' })).toEqual([
        { path: 'schedule', message: "invalid cron expression '0 6 * *': expected 5 fields" },
      ]);
    });

    it('with a time zone the scheduler rejects', () => {
      expect(errorsOf({ ...designExample(), timezone: 'Mars/Olympus' })).toEqual([
        { path: 'timezone', message: "unknown time zone 'Mars/Olympus'" },
      ]);
    });

    it.each(['0 6 * * *', '@once'])('with schedule %p but no startDate', (schedule) => {
      const doc: Record<string, unknown> = { ...designExample(), schedule };
      delete doc.startDate;
      expect(errorsOf(doc)).toEqual([
        { path: 'startDate', message: expect.stringContaining('required when schedule is a cron or preset expression') },
      ]);
    });

    it.each(['2024-01-01T00:00:00Z', '2023-12-31T00:00:00Z', '2024-01-01T01:00:00+02:00'])(
      'with endDate %p not after startDate',
      (endDate) => {
        expect(errorsOf({ ...designExample(), endDate })).toEqual([
          { path: 'endDate', message: 'must be after startDate (2024-01-01T00:00:00Z)' },
        ]);
      },
    );

    it('with @once and endDate before startDate (an endDate equal to startDate keeps the one run)', () => {
      const once = { ...designExample(), schedule: '@once' };
      expect(errorsOf({ ...once, endDate: '2023-12-31T23:59:59Z' })).toEqual([
        { path: 'endDate', message: 'must not be before startDate (2024-01-01T00:00:00Z): @once runs once, at startDate' },
      ]);
      for (const endDate of ['2024-01-01T00:00:00Z', '2024-01-01T01:00:00+01:00']) {
        expect(validateDagDocument({ ...once, endDate }, checks).ok).toBe(true);
      }
    });

    it('with duplicate task ids, naming the id', () => {
      const errors = errorsOf(
        minimal([
          { taskId: 'a', type: 'noop' },
          { taskId: 'b', type: 'noop' },
          { taskId: 'a', type: 'noop' },
        ]),
      );
      expect(errors).toEqual([{ path: 'tasks[2].taskId', message: "duplicate taskId 'a' (already used by tasks[0])" }]);
    });

    it('with a dependency on an unknown task, naming it and a likely intended one', () => {
      const errors = errorsOf(
        minimal([
          { taskId: 'extract', type: 'noop' },
          { taskId: 'load', type: 'noop', dependsOn: ['extract', 'extrct', 'transform'] },
        ]),
      );
      expect(errors).toEqual([
        { path: 'tasks[1].dependsOn[1]', message: "unknown task 'extrct' in dependsOn (did you mean 'extract'?)" },
        { path: 'tasks[1].dependsOn[2]', message: "unknown task 'transform' in dependsOn" },
      ]);
    });

    it('with a task depending on itself, reported once (not also as a cycle)', () => {
      expect(errorsOf(minimal([{ taskId: 'a', type: 'noop', dependsOn: ['a'] }]))).toEqual([
        { path: 'tasks[0].dependsOn[0]', message: "task 'a' cannot depend on itself" },
      ]);
    });

    it('with the same dependency listed twice', () => {
      const errors = errorsOf(
        minimal([
          { taskId: 'a', type: 'noop' },
          { taskId: 'b', type: 'noop', dependsOn: ['a', 'a'] },
        ]),
      );
      expect(errors).toEqual([{ path: 'tasks[1].dependsOn[1]', message: "'a' is listed more than once" }]);
    });

    it('with a cycle, naming its tasks in order', () => {
      const errors = errorsOf(
        minimal([
          { taskId: 'a', type: 'noop', dependsOn: ['c'] },
          { taskId: 'b', type: 'noop', dependsOn: ['a'] },
          { taskId: 'c', type: 'noop', dependsOn: ['b'] },
          { taskId: 'd', type: 'noop', dependsOn: ['c'] },
        ]),
      );
      expect(errors).toEqual([{ path: 'tasks', message: 'cycle detected: a -> b -> c -> a' }]);
    });

    it('with two separate cycles, naming each', () => {
      const errors = errorsOf(
        minimal([
          { taskId: 'x', type: 'noop', dependsOn: ['y'] },
          { taskId: 'a', type: 'noop', dependsOn: ['b'] },
          { taskId: 'b', type: 'noop', dependsOn: ['a'] },
          { taskId: 'y', type: 'noop', dependsOn: ['x'] },
        ]),
      );
      expect(errors.map((e) => e.message)).toEqual(['cycle detected: x -> y -> x', 'cycle detected: a -> b -> a']);
    });

    it('with a cycle through all 1,000 tasks', () => {
      const tasks = chain(MAX_TASKS_PER_DAG);
      tasks[0].dependsOn = [`t${MAX_TASKS_PER_DAG - 1}`];
      const [issue] = errorsOf(minimal(tasks));
      expect(issue.path).toBe('tasks');
      expect(issue.message).toMatch(/^cycle detected: t0 -> t1 -> t2 -> .* -> t999 -> t0$/);
    });

    it('with xcomPull naming a task that is not upstream, or no task at all', () => {
      const errors = errorsOf(
        minimal([
          { taskId: 'a', type: 'noop' },
          { taskId: 'b', type: 'noop' },
          { taskId: 'c', type: 'noop', dependsOn: ['a'], xcomPull: ['a', 'b', 'c', 'zz'] },
        ]),
      );
      expect(errors).toEqual([
        { path: 'tasks[2].xcomPull[1]', message: expect.stringContaining("'b' is not upstream of 'c'") },
        { path: 'tasks[2].xcomPull[2]', message: expect.stringContaining("'c' is not upstream of 'c'") },
        { path: 'tasks[2].xcomPull[3]', message: "unknown task 'zz' in xcomPull" },
      ]);
    });

    it('with a template that cannot parse, at its field, wherever the task renders strings', () => {
      const errors = errorsOf(
        minimal(
          [
            { taskId: 'a', type: 'shell', command: 'echo {{ ds ', env: { X: '{{ ds | shell_trusted }}' } },
            { taskId: 'b', type: 'http', request: { method: 'GET', url: 'https://x.example', headers: { 'X-Run': '{% include "h" %}' } } },
            { taskId: 'c', type: 'ml.score', args: { dates: ['{{ ds }}', '{{ ds | add_day: 1 }}'] } },
            { taskId: 'd', type: 'branch', choose: '{% if %}', dependsOn: ['a'] },
            { taskId: 'e', type: 'container', image: 'busybox' },
          ],
          { defaultArgs: { podTemplate: { metadata: { annotations: { run: '{{ run_id' } } } } },
        ),
      );
      expect(errors).toEqual([
        { path: 'tasks[0].command', message: `syntax error: output "{{ ds " not closed in template 'echo {{ ds '` },
        // shell_trusted exists only where values are shell-quoted: a shell command
        { path: 'tasks[0].env.X', message: "unknown filter 'shell_trusted' in template '{{ ds | shell_trusted }}'" },
        { path: 'tasks[1].request.headers["X-Run"]', message: `unknown tag 'include' in template '{% include "h" %}'` },
        { path: 'tasks[2].args.dates[1]', message: "unknown filter 'add_day' in template '{{ ds | add_day: 1 }}'" },
        { path: 'tasks[3].choose', message: `syntax error: invalid value expression: "" in template '{% if %}'` },
        { path: 'defaultArgs.podTemplate.metadata.annotations.run', message: `syntax error: output "{{ run_id" not closed in template '{{ run_id'` },
      ]);
    });

    it('accepts templates whose variables only a run can tell, and template text in fields that are not rendered', () => {
      const doc = minimal([
        { taskId: 'a', type: 'shell', command: 'ls {{ params.flags | shell_trusted }} {{ dag_run.conf.x | default: "y" }} {{ no_such_var }}', doc: '{{ not rendered' },
      ]);
      expect(validateDagDocument(doc, checks).ok).toBe(true);
    });

    it('with http header names that are not tokens, header values with line breaks, shell env names with "="', () => {
      const errors = errorsOf(
        minimal([
          { taskId: 'a', type: 'http', request: { method: 'GET', url: 'https://x.example', headers: { 'X-A\r\nX-B': '1', 'X C': '1', 'X-D': 'a\nb', 'X-Ok': '{{ ds }}' } } },
          { taskId: 'b', type: 'shell', command: 'env', env: { 'A=B': 'x', '': 'y', OK_1: 'z' } },
        ]),
      );
      expect(errors).toEqual([
        { path: 'tasks[0].request.headers["X-A\\r\\nX-B"]', message: expect.stringContaining('must be letters, digits and') },
        { path: 'tasks[0].request.headers["X C"]', message: expect.stringContaining('(an HTTP token)') },
        { path: 'tasks[0].request.headers["X-D"]', message: 'a header value must not contain a line break (CR or LF)' },
        { path: 'tasks[1].env["A=B"]', message: 'environment variable name "A=B": must not be empty or contain "="' },
        { path: 'tasks[1].env[""]', message: 'environment variable name "": must not be empty or contain "="' },
      ]);
    });

    it('with an external_task state that is both allowed and failed', () => {
      const errors = errorsOf(
        minimal([{ taskId: 'w', type: 'external_task', externalDagId: 'up', allowedStates: ['success', 'failed'] }]),
      );
      expect(errors).toEqual([
        { path: 'tasks[0].allowedStates', message: "state 'failed' cannot be in both allowedStates and failedStates" },
      ]);
    });
  });

  it('reports every problem at once', () => {
    const doc = {
      ...designExample(),
      schedule: 'every day',
      timezone: 'Nowhere/Land',
      maxActiveRuns: -1,
      owner: 'me',
      tasks: [
        { taskId: 'a', type: 'shell', dependsOn: ['c'] },
        { taskId: 'b', type: 'noop', dependsOn: ['a', 'ghost'], retries: -2 },
        { taskId: 'c', type: 'noop', dependsOn: ['b'], triggerRule: 'sometimes' },
        { taskId: 'a', type: 'noop' },
      ],
    };
    const errors = errorsOf(doc);
    expect(errors).toEqual(
      expect.arrayContaining([
        { path: 'maxActiveRuns', message: 'must be at least 1, got -1' },
        { path: 'owner', message: "unknown field 'owner'" },
        { path: 'tasks[0].command', message: "missing required field 'command' (or give argv, run without a shell)" },
        { path: 'tasks[1].retries', message: 'must be at least 0, got -2' },
        { path: 'tasks[2].triggerRule', message: expect.stringContaining("got 'sometimes'") },
        { path: 'schedule', message: "invalid cron expression 'every day': expected 5 fields" },
        { path: 'timezone', message: "unknown time zone 'Nowhere/Land'" },
        { path: 'tasks[3].taskId', message: "duplicate taskId 'a' (already used by tasks[0])" },
        { path: 'tasks[1].dependsOn[1]', message: "unknown task 'ghost' in dependsOn" },
        { path: 'tasks', message: 'cycle detected: a -> b -> c -> a' },
      ]),
    );
    expect(errors).toHaveLength(10);
  });
});
