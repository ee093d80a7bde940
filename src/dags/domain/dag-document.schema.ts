import { z } from 'zod';
import { ISO_DURATION_PATTERN } from './iso-duration.js';
import {
  containerTaskShape,
  podTemplateSchema,
  resourcesSchema,
  secretEnvSchema,
  tolerationSchema,
  volumeMountSchema,
  volumeSchema,
} from './kubernetes-fields.js';
import { MAX_TASKS_PER_DAG } from './limits.js';
import { ID_MESSAGE, ID_PATTERN, idError } from '../../common/ids.js';
import { ENCRYPTED_PREFIX } from '../../secrets/domain/secret-box.js';
import { SECRET_REF_PATTERN } from '../../secrets/domain/secret-ref.js';
import { DEFAULT_TRIGGER_RULE, TRIGGER_RULES } from './trigger-rule-names.js';

/**
 * The DAG document (DESIGN §2): the single source of its TypeScript types and of the JSON Schema served at
 * /api/v1/schemas/dag.json. This schema checks structure and field values; rules that span fields or tasks
 * (unknown or cyclic dependencies, cron and timezone syntax, startDate required for a cron schedule, endDate after
 * startDate, or not before it for @once) live in validateDagDocument, which is what callers should use.
 */

/** Keywords merged into the exported JSON Schema (zod copies registry metadata into it). */
type SchemaMeta = { id?: string; title?: string; description?: string; examples?: unknown[]; pattern?: string };

/** Documentation for the JSON Schema export; a registry of our own, so ids cannot clash with other modules'. */
const docs = z.registry<SchemaMeta>();
/** The same registry, for the OpenAPI document (its descriptions and component names). */
export const dagDocumentDocs = docs;
function doc<T extends z.ZodType>(schema: T, meta: SchemaMeta): T {
  docs.add(schema as z.ZodType, meta);
  return schema;
}


export const BUILTIN_TASK_TYPES = ['shell', 'http', 'sql', 'noop', 'external_task', 'container', 'branch'] as const;
export type BuiltinTaskType = (typeof BUILTIN_TASK_TYPES)[number];

/** An id (ID_PATTERN) that is not a built-in type name; a lookahead keeps the rule expressible in JSON Schema. */
const CUSTOM_TYPE_PATTERN = new RegExp(`^(?!(?:${BUILTIN_TASK_TYPES.join('|')})$)${ID_PATTERN.source.slice(1)}`);

export { TRIGGER_RULES, type TriggerRule } from './trigger-rule-names.js';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** States of another DAG's task (or run) that an external_task sensor can wait for or fail on. */
export const EXTERNAL_TASK_STATES = ['success', 'failed', 'upstream_failed', 'skipped', 'removed'] as const;
export type ExternalTaskState = (typeof EXTERNAL_TASK_STATES)[number];

/** Upper bound for every duration in seconds (366 days): keeps date arithmetic far from overflow. */
export const MAX_DURATION_SEC = 366 * 86_400;
const INT32_MAX = 2_147_483_647;

/** Ids of DAGs, tasks, pools and queues. */
export const idSchema = z.string().regex(ID_PATTERN, { error: idError(ID_MESSAGE) });
export const httpUrl = doc(z.url({ protocol: /^https?$/, error: 'must be an absolute http or https URL' }), {
  pattern: '^https?://',
});
export const isoDateTimeSchema = doc(
  z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with a UTC offset, e.g. 2024-01-01T00:00:00Z' }),
  { examples: ['2024-01-01T00:00:00Z'] },
);
const jsonValue = doc(z.json(), { id: 'JsonValue', description: 'Any JSON value.' });
const jsonObject = z.record(z.string(), jsonValue);
const datasetUri = doc(z.string().min(1).max(1000), {
  description: 'Dataset identifier, usually a URI such as s3://bucket/key or warehouse.events.',
});
const nonEmpty = z.string().min(1);
const retries = z.int().min(0).max(100);
const delaySec = z.number().min(0).max(MAX_DURATION_SEC);
const timeoutSec = z.number().positive().max(MAX_DURATION_SEC);
const poolSlots = z.int().min(1).max(INT32_MAX);
const priorityWeight = z.int().min(-INT32_MAX).max(INT32_MAX);

export const datasetScheduleSchema = doc(
  z.strictObject({
    datasets: z.array(datasetUri).min(1),
    mode: z.enum(['all', 'any']).default('all'),
  }),
  {
    id: 'DatasetSchedule',
    description: "Run once every dataset ('all') or any dataset ('any') has been updated since the last run.",
  },
);

const scheduleSchema = doc(
  z
    .union([nonEmpty, datasetScheduleSchema], {
      error: 'must be a cron or preset string, null, or a dataset condition {"datasets": [...], "mode": "all"}',
    })
    .nullable()
    .default(null),
  {
    description:
      'Cron (5 fields), a preset (@hourly, @daily, @weekly, @monthly, @quarterly, @yearly, @once), a dataset condition, ' +
      'or null (manual only).',
  },
);

doc(tolerationSchema, { id: 'Toleration', description: 'A Kubernetes toleration.' });
doc(volumeSchema, { id: 'Volume', description: 'A Kubernetes volume: a name and one volume source.' });
doc(volumeMountSchema, { id: 'VolumeMount', description: 'Where a volume appears in the base container.' });
doc(resourcesSchema, { id: 'ResourceRequirements', description: "Requests and limits of the base container (cpu, memory, nvidia.com/gpu …)." });
doc(secretEnvSchema, {
  id: 'SecretEnv',
  description: 'A Secret whose keys become environment variables (envFrom): its name, or {name, prefix?, optional?}.',
});

const podTemplate = doc(podTemplateSchema, {
  id: 'PodTemplate',
  description:
    'Partial Pod (metadata, spec) merged over the levels before it (cluster default, then the DAG\'s defaultArgs, then ' +
    "the task's), as a Kubernetes strategic merge would (docs/kubernetes.md). The task's container is named 'base'.",
});

const slaWarningSchema = doc(
  z
    .strictObject({
      p95Fraction: doc(z.number().gt(0).max(100), { description: 'Warn once an attempt has run longer than this fraction of the p95 duration.', examples: [0.8] }),
      minSamples: doc(z.int().min(1).max(1000).default(10), { description: 'Successful attempts needed before any warning.' }),
      window: doc(z.int().min(1).max(1000).default(30), { description: 'How many of the latest successful attempts the p95 is taken over.' }),
    })
    .refine((w) => w.minSamples <= w.window, { error: 'minSamples cannot exceed window', path: ['minSamples'] }),
  {
    id: 'SlaWarningSettings',
    description:
      "Early warning: an attempt running longer than p95Fraction of the p95 duration of the task's last `window` successful attempts " +
      '(at least minSamples) raises one sla_warning per task instance to the slaCallbacks (docs/alerts.md).',
  },
);

const defaultArgsSchema = doc(
  z
    .strictObject({
      retries: retries.default(0),
      retryDelaySec: delaySec.default(300),
      retryExponentialBackoff: z.boolean().default(false),
      maxRetryDelaySec: doc(delaySec.optional(), { description: 'Cap on the backoff delay; absent = no cap.' }),
      executionTimeoutSec: doc(timeoutSec.optional(), { description: 'Hard timeout per attempt; absent = none.' }),
      pool: idSchema.default('default_pool'),
      queue: idSchema.default('default'),
      owner: nonEmpty.max(250).optional(),
      priorityWeight: priorityWeight.default(1),
      poolSlots: poolSlots.default(1),
      podTemplate: podTemplate.optional(),
      slaWarning: slaWarningSchema.optional(),
    })
    .prefault({}),
  { id: 'DefaultArgs', description: 'Task settings that every task inherits unless it sets its own.' },
);

/** The placeholder answers show instead of a secret: sending it back would make it the secret. */
export const REDACTED_SECRET = '***';

export const webhookSecret = nonEmpty
  .refine((v) => v !== REDACTED_SECRET, {
    error: `"${REDACTED_SECRET}" is the placeholder answers show for a secret: give the secret itself, or a secretRef`,
  })
  .refine((v) => !v.startsWith(ENCRYPTED_PREFIX), {
    error: `values starting with "${ENCRYPTED_PREFIX}" are Weft's encrypted form: give the secret itself, or a secretRef`,
  });

/** PagerDuty Events API v2 severities, and the alert kinds a callback may give a severity of its own. */
export const PAGERDUTY_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type PagerDutySeverity = (typeof PAGERDUTY_SEVERITIES)[number];
export const PAGERDUTY_SEVERITY_KINDS = ['sla_miss', 'sla_warning', 'task_failed', 'run_failed'] as const;
const severityLevel = z.enum(PAGERDUTY_SEVERITIES);
const pagerDutySeveritySchema = z.union([severityLevel, z.strictObject(Object.fromEntries(PAGERDUTY_SEVERITY_KINDS.map((k) => [k, severityLevel.optional()])) as Record<(typeof PAGERDUTY_SEVERITY_KINDS)[number], z.ZodOptional<typeof severityLevel>>)]);
export type PagerDutySeveritySetting = z.infer<typeof pagerDutySeveritySchema>;

const slaCallbackSchema = doc(
  z.discriminatedUnion('type', [
    z
      .strictObject({
        type: z.literal('webhook'),
        url: httpUrl,
        secret: doc(webhookSecret.optional(), {
          description: 'Key for the HMAC signature of the request body; stored encrypted, shown as "***".',
        }),
        secretRef: doc(z.string().regex(SECRET_REF_PATTERN, { error: 'must be 1-200 characters of A-Z, 0-9 and "_"' }).optional(), {
          description: 'Instead of `secret`: the name of an environment variable WEFT_SECRET_<NAME>, read at delivery time.',
          examples: ['PAGER_HOOK'],
        }),
      })
      .refine((cb) => cb.secret === undefined || cb.secretRef === undefined, {
        error: 'give either secret or secretRef, not both',
        path: ['secretRef'],
      }),
    z.strictObject({ type: z.literal('slack'), webhookUrl: httpUrl }),
    z.strictObject({
      type: z.literal('pagerduty'),
      routingKeyRef: doc(z.string().regex(SECRET_REF_PATTERN, { error: 'must be 1-200 characters of A-Z, 0-9 and "_"' }), {
        description: 'The integration (routing) key of a PagerDuty Events API v2 integration, from the environment variable WEFT_SECRET_<NAME>, read at delivery time.',
        examples: ['PD_KEY'],
      }),
      severity: doc(pagerDutySeveritySchema.optional(), {
        description:
          'Events API v2 severity: one for every kind, or by kind ({"sla_warning": "warning", "sla_miss": "error", "task_failed": "error", "run_failed": "critical"}: the defaults, also for a kind left out).',
      }),
      url: doc(httpUrl.optional(), {
        description: 'Events API v2 endpoint; default https://events.pagerduty.com/v2/enqueue (EU: https://events.eu.pagerduty.com/v2/enqueue).',
      }),
    }),
    z.strictObject({ type: z.literal('email'), to: z.array(z.email({ error: 'must be an email address' })).min(1) }),
  ]),
  { id: 'SlaCallback' },
);

/** Names of `expand` keys: what a template reads as `{{ expand.<key> }}`. */
export const EXPAND_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

export const expandSourceSchema = doc(
  z.union(
    [
      z.array(jsonValue),
      z.strictObject({
        xcomPull: z.strictObject({
          taskId: idSchema,
          key: doc(z.string().min(1).max(250).optional(), { description: "The XCom key; default 'return_value'." }),
        }),
      }),
    ],
    { error: 'must be a list of values, or {"xcomPull": {"taskId": "<a task this one depends on>", "key": "return_value"}}' },
  ),
  {
    id: 'ExpandSource',
    description:
      "The values of one `expand` key: a literal list, or an upstream task's XCom (a list; a mapped task's XCom is the " +
      'list of its instances\' values, in map index order).',
  },
);

const expandSchema = doc(
  z
    .record(z.string().regex(EXPAND_KEY_PATTERN, { error: 'must be a name of letters, digits and "_" (not starting with a digit)' }), expandSourceSchema)
    .refine((e) => Object.keys(e).length > 0, { error: 'must name at least one key' }),
  {
    description:
      'Map the task: one task instance per element (per combination, for several keys, the first key in alphabetical ' +
      'order varying slowest), known when its upstream tasks are done. Templates read `{{ expand.<key> }}` and ' +
      '`{{ map_index }}`. An empty list skips the task.',
    examples: [{ file: { xcomPull: { taskId: 'list_files' } } }, { region: ['eu', 'us'] }],
  },
);

export const taskGroupSchema = doc(
  z.strictObject({
    groupId: idSchema,
    tooltip: z.string().max(1000).optional(),
  }),
  { id: 'TaskGroup', description: 'A named group of tasks, shown folded in a UI.' },
);

const taskCommonShape = {
  taskId: idSchema,
  dependsOn: doc(z.array(idSchema).default(() => []), { description: 'Ids of the tasks that must run first.' }),
  triggerRule: z.enum(TRIGGER_RULES).default(DEFAULT_TRIGGER_RULE),
  retries: retries.optional(),
  retryDelaySec: delaySec.optional(),
  retryExponentialBackoff: z.boolean().optional(),
  maxRetryDelaySec: delaySec.optional(),
  executionTimeoutSec: timeoutSec.optional(),
  pool: idSchema.optional(),
  poolSlots: poolSlots.optional(),
  queue: idSchema.optional(),
  priorityWeight: priorityWeight.optional(),
  sla: doc(
    z.string().regex(ISO_DURATION_PATTERN, {
      error: 'must be an ISO 8601 duration such as PT30M, PT2H or P1D (weeks, days, hours, minutes, seconds)',
    }),
    { description: "Allowed time after the run's data-interval end.", examples: ['PT2H'] },
  ).optional(),
  slaWarning: doc(slaWarningSchema.optional(), { description: "Overrides defaultArgs.slaWarning for this task." }),
  outlets: doc(z.array(datasetUri).optional(), { description: 'Datasets this task updates when it succeeds.' }),
  xcomPull: doc(z.array(idSchema).optional(), {
    description: 'Upstream tasks (direct or transitive) whose XCom this task receives.',
  }),
  expand: expandSchema.optional(),
  group: doc(idSchema.optional(), { description: 'The task group (declared in `groups`) this task belongs to, for display.' }),
  branch: doc(z.boolean().optional(), {
    description:
      'A branch: it completes with the direct downstream task ids to follow (`followTaskIds` in its completion, or its ' +
      '`return_value` XCom: an id or a list of ids); its other direct downstream tasks are skipped.',
  }),
  shortCircuit: doc(z.boolean().optional(), {
    description: 'A falsy `return_value` (false, null, 0, "", [], {} or none at all) skips what is downstream of it.',
  }),
  ignoreDownstreamTriggerRules: doc(z.boolean().optional(), {
    description:
      'With shortCircuit: true (the default, as Airflow) skips everything downstream; false skips only the direct ' +
      'downstream tasks and lets the trigger rules of the rest decide.',
  }),
  doc: z.string().optional(),
};

/**
 * Checks the JSON Schema does not carry (refinements): a name with "=" would set another variable than it says
 * ('A=B': 'x' sets A to 'B=x'), an empty one is dropped; a header that is not a token, or a value with a line break,
 * would fail every attempt of an http task when it is sent (header names are never rendered; values may be, and
 * what rendering puts in them is checked when the request is made).
 */
const shellEnvName = z.string().refine((name) => name !== '' && !name.includes('='), {
  error: (issue) => `environment variable name ${JSON.stringify(issue.input)}: must not be empty or contain "="`,
});
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const httpHeaderName = z.string().refine((name) => HTTP_TOKEN.test(name), {
  error: (issue) => `header name ${JSON.stringify(issue.input)}: must be letters, digits and !#$%&'*+.^_\`|~- (an HTTP token)`,
});
const httpHeaderValue = z.string().refine((value) => !/[\r\n]/.test(value), {
  error: 'a header value must not contain a line break (CR or LF)',
});

export const shellTaskSchema = doc(
  z.strictObject({
    ...taskCommonShape,
    type: z.literal('shell'),
    command: doc(nonEmpty.optional(), {
      description: 'Run by /bin/sh -c; values rendered into it are shell-quoted for where they land. Give command or argv.',
    }),
    argv: doc(z.array(z.string()).min(1).optional(), {
      description: 'Program and arguments, run without a shell (each element rendered, never split or quoted). Give command or argv.',
    }),
    env: z.record(shellEnvName, z.string()).optional(),
    cwd: nonEmpty.optional(),
    xcomFormat: doc(z.enum(['string', 'json']).optional(), {
      description: "How the last stdout line becomes XCom return_value: 'string' (the default) as it is, 'json' parsed as JSON.",
    }),
  }),
  { id: 'ShellTask' },
);

export const httpTaskSchema = doc(
  z.strictObject({
    ...taskCommonShape,
    type: z.literal('http'),
    request: z.strictObject({
      method: z.enum(HTTP_METHODS),
      url: httpUrl,
      headers: z.record(httpHeaderName, httpHeaderValue).optional(),
      body: jsonValue.optional(),
      expectStatus: doc(z.array(z.int().min(100).max(599)).min(1).optional(), {
        description: 'Statuses that count as success; absent = any 2xx.',
      }),
    }),
  }),
  { id: 'HttpTask' },
);

export const sqlTaskSchema = doc(
  z.strictObject({
    ...taskCommonShape,
    type: z.literal('sql'),
    sql: nonEmpty,
    parameters: doc(z.array(jsonValue).optional(), {
      description: 'Bind values for $1, $2… in `sql` (rendered, then sent apart from the SQL text); the sql is then one statement.',
    }),
    connection: doc(nonEmpty.optional(), { description: 'Connection id or database URL.' }),
  }),
  { id: 'SqlTask' },
);

export const noopTaskSchema = doc(z.strictObject({ ...taskCommonShape, type: z.literal('noop') }), { id: 'NoopTask' });

export const externalTaskSchema = doc(
  z.strictObject({
    ...taskCommonShape,
    type: z.literal('external_task'),
    externalDagId: idSchema,
    externalTaskId: doc(idSchema.nullable().default(null), { description: 'null = wait for the whole run.' }),
    executionDeltaSec: doc(z.int().min(-INT32_MAX).max(INT32_MAX).optional(), {
      description: "Offset subtracted from this run's logical date to find the other run; absent = same date.",
    }),
    allowedStates: z.array(z.enum(EXTERNAL_TASK_STATES)).min(1).default(() => ['success' as const]),
    failedStates: z.array(z.enum(EXTERNAL_TASK_STATES)).default(() => ['failed' as const, 'upstream_failed' as const]),
    timeoutSec: doc(timeoutSec.optional(), { description: 'Give up (fail) after this long; absent = no timeout.' }),
    pokeIntervalSec: z.number().min(1).max(MAX_DURATION_SEC).default(60),
  }),
  { id: 'ExternalTask', description: 'Waits, without a worker slot, for a task or run of another DAG.' },
);

export const containerTaskSchema = doc(
  z.strictObject({ ...taskCommonShape, type: z.literal('container'), ...containerTaskShape }),
  {
    id: 'ContainerTask',
    description:
      'Runs in its own Kubernetes pod, launched by `weft kubernetes` (docs/kubernetes.md). The fields below build the ' +
      "pod's 'base' container; `podTemplate` can say anything else a Pod can.",
  },
);

export const branchTaskSchema = doc(
  z.strictObject({
    ...taskCommonShape,
    type: z.literal('branch'),
    choose: doc(nonEmpty, {
      description: 'A template rendering to the direct downstream task id(s) to follow, separated by commas or spaces.',
      examples: ['{% if params.full %}full_load{% else %}incremental{% endif %}'],
    }),
  }),
  { id: 'BranchTask', description: 'A branch the scheduler decides itself, without a worker, by rendering `choose`.' },
);

export const customTaskSchema = doc(
  z.strictObject({
    ...taskCommonShape,
    type: z.string().regex(CUSTOM_TYPE_PATTERN, {
      error: idError(`must be a custom type name: ${ID_MESSAGE}, not a built-in type`),
    }),
    args: jsonObject.optional(),
  }),
  { id: 'CustomTask', description: 'Any other type runs on a worker that leases it from its queue.' },
);

const builtinTaskSchemas = {
  shell: shellTaskSchema,
  http: httpTaskSchema,
  sql: sqlTaskSchema,
  noop: noopTaskSchema,
  external_task: externalTaskSchema,
  container: containerTaskSchema,
  branch: branchTaskSchema,
} as const;

/** The schema a task of this `type` must satisfy: the built-in one of that name, otherwise the custom-task schema. */
export function taskSchemaForType(type: string): z.ZodObject {
  return (BUILTIN_TASK_TYPES as readonly string[]).includes(type)
    ? builtinTaskSchemas[type as BuiltinTaskType]
    : customTaskSchema;
}

export const taskSchema = z.union([
  shellTaskSchema,
  httpTaskSchema,
  sqlTaskSchema,
  noopTaskSchema,
  externalTaskSchema,
  containerTaskSchema,
  branchTaskSchema,
  customTaskSchema,
]);

export const dagDocumentSchema = doc(
  z.strictObject({
    dagId: idSchema,
    description: z.string().optional(),
    schedule: scheduleSchema,
    timezone: doc(nonEmpty.default('UTC'), { description: 'IANA time zone the schedule is evaluated in.' }),
    startDate: doc(isoDateTimeSchema.nullable().default(null), {
      description: 'First interval starts at the first tick at or after this instant; required with a cron schedule.',
    }),
    endDate: doc(isoDateTimeSchema.nullable().default(null), { description: 'No interval ends after this instant.' }),
    catchup: z.boolean().default(true),
    isPausedUponCreation: doc(z.boolean().optional(), {
      description:
        'Create the DAG paused (Airflow\'s is_paused_upon_creation), so the scheduler starts no run before it is unpaused. ' +
        'Read only when the registration creates the DAG: it never pauses or unpauses an existing one, is not stored in the ' +
        'version and is not part of the content hash (changing it alone adds no version).',
    }),
    maxActiveRuns: z.int().min(1).max(1000).default(16),
    maxActiveTasks: z.int().min(1).max(10_000).default(16),
    params: jsonObject.default(() => ({})),
    tags: z.array(nonEmpty.max(100)).default(() => []),
    defaultArgs: defaultArgsSchema,
    slaCallbacks: z.array(slaCallbackSchema).default(() => []),
    onFailureCallbacks: doc(z.array(slaCallbackSchema).default(() => []), {
      description: 'Notified when a task fails for good (after its retries) and when a run fails.',
    }),
    groups: doc(z.array(taskGroupSchema).max(MAX_TASKS_PER_DAG).optional(), {
      description:
        'Task groups (Airflow\'s TaskGroup): tasks name theirs in `group`, and `dependsOn` may name a group, meaning ' +
        'every task in it (stored expanded). A UI folds a group into one node.',
    }),
    tasks: z.array(taskSchema).min(1).max(MAX_TASKS_PER_DAG),
  }),
  { title: 'Weft DAG document', description: 'A workflow: its schedule, defaults and tasks (DESIGN §2).' },
);

/** A DAG document as validated and normalised (every default applied); what is stored and hashed. */
export type DagDocument = z.output<typeof dagDocumentSchema>;
/** A DAG document as authors write it (defaulted fields optional). */
export type DagDocumentInput = z.input<typeof dagDocumentSchema>;
export type DagTask = z.output<typeof taskSchema>;
export type ShellTask = z.output<typeof shellTaskSchema>;
export type HttpTask = z.output<typeof httpTaskSchema>;
export type SqlTask = z.output<typeof sqlTaskSchema>;
export type NoopTask = z.output<typeof noopTaskSchema>;
export type ExternalTask = z.output<typeof externalTaskSchema>;
export type ContainerTask = z.output<typeof containerTaskSchema>;
export type CustomTask = z.output<typeof customTaskSchema>;
export type BranchTask = z.output<typeof branchTaskSchema>;
export type DefaultArgs = z.output<typeof defaultArgsSchema>;
export type SlaCallback = z.output<typeof slaCallbackSchema>;
export type DatasetSchedule = z.output<typeof datasetScheduleSchema>;

type BuiltinTaskByType = {
  shell: ShellTask;
  http: HttpTask;
  sql: SqlTask;
  noop: NoopTask;
  external_task: ExternalTask;
  container: ContainerTask;
  branch: BranchTask;
};

/** Narrows a task to a built-in type (a plain `task.type === 'shell'` cannot, as custom types are any string). */
export function isTaskOfType<T extends BuiltinTaskType>(task: DagTask, type: T): task is BuiltinTaskByType[T] {
  return task.type === type;
}

export const DAG_JSON_SCHEMA_ID = 'https://weft.dev/schemas/dag.json';

export type DagJsonSchema = { $schema: string; $id: string; title: string; [keyword: string]: unknown };

let cachedJsonSchema: string | undefined;

/** JSON Schema (draft 2020-12) of the document as authors write it; a fresh copy on each call. */
export function dagJsonSchema(): DagJsonSchema {
  cachedJsonSchema ??= JSON.stringify(withCrossFieldRules({
    $id: DAG_JSON_SCHEMA_ID,
    ...z.toJSONSchema(dagDocumentSchema, { target: 'draft-2020-12', io: 'input', metadata: docs }),
  }));
  return JSON.parse(cachedJsonSchema) as DagJsonSchema;
}

/**
 * The rules between fields of one task that JSON Schema can state, added to what zod's conversion gives so that a
 * client validating locally against the served schema finds them too (validateDag states each one with its path).
 * A shell task gives exactly one of `command` and `argv`.
 */
function withCrossFieldRules<T extends { $defs?: Record<string, Record<string, unknown>> }>(schema: T): T {
  const shell = schema.$defs?.ShellTask;
  if (shell) shell.oneOf = [{ required: ['command'] }, { required: ['argv'] }];
  return schema;
}
