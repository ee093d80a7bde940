import { z } from 'zod';
import { dagDocumentSchema, datasetScheduleSchema } from '../../dags/domain/dag-document.schema.js';
import { named, page, timestamp } from '../contract.js';

/** The DAG document as authors write it; GET answers carry it normalised (every default filled in). */
export const dagDocument = named('DagDocument', dagDocumentSchema, {
  io: 'input',
  description: 'A workflow: its schedule, defaults and tasks. The JSON Schema with every rule is served at /api/v1/schemas/dag.json.',
  example: {
    dagId: 'daily_sales',
    schedule: '0 2 * * *',
    startDate: '2024-01-01T00:00:00Z',
    tasks: [
      { taskId: 'extract', type: 'shell', command: 'echo {{ ds }}' },
      { taskId: 'load', type: 'http', dependsOn: ['extract'], xcomPull: ['extract'], request: { method: 'POST', url: 'https://example.com/load', body: { rows: '{{ xcom.extract.return_value }}' } } },
    ],
  },
});

export const dag = named('Dag', z.object({
  dagId: z.string(),
  description: z.string().nullable(),
  owner: z.string().nullable(),
  tags: z.array(z.string()),
  schedule: z.union([z.string(), datasetScheduleSchema]).nullable().describe('Cron or preset string, a dataset condition, or null (manual only)'),
  timezone: z.string(),
  isPaused: z.boolean(),
  isActive: z.boolean(),
  source: z.enum(['api', 'folder']),
  fileloc: z.string().nullable(),
  latestVersion: z.int(),
  maxActiveRuns: z.int(),
  maxActiveTasks: z.int(),
  nextDagrunLogicalDate: timestamp.nullable(),
  nextDagrunCreateAfter: timestamp.nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
}));

export const dagPage = page('DagPage', dag);

export const dagWithDocument = named('DagWithDocument', dag.extend({ document: dagDocument }));

export const registrationWarning = named(
  'RegistrationWarning',
  z.object({ path: z.string().describe('The field, as a 400 would name it'), message: z.string() }),
  { description: 'Accepted, but worth knowing: e.g. a task in a pool that does not exist (it stays queued until the pool is created)' },
);

export const registerDagResult = named('RegisterDagResult', z.object({
  dag,
  version: z.int().describe('The version now current'),
  created: z.boolean().describe('The DAG did not exist before (answered with 201)'),
  changed: z.boolean().describe('A new version was stored (false when the content is unchanged)'),
  warnings: z.array(registrationWarning),
}));

export const registrationPreview = named('RegistrationPreview', z.object({
  dagId: z.string(),
  action: z.enum(['create', 'update', 'unchanged']).describe('What registering the document would do: create the DAG, store a new version, or nothing'),
  currentVersion: z.int().nullable().describe('The latest version now; null when the DAG does not exist'),
  version: z.int().describe('The version that would be current after registering'),
  document: dagDocument.describe('The document as it would be stored: normalised, every default filled in, secrets shown as "***"'),
  warnings: z.array(registrationWarning),
}));

export const dagVersion = named('DagVersion', z.object({
  dagId: z.string(),
  version: z.int(),
  contentHash: z.string(),
  document: dagDocument,
  createdAt: timestamp,
}));

export const dagVersionPage = page('DagVersionPage', dagVersion);

export const runInterval = named('RunInterval', z.object({
  logicalDate: timestamp,
  dataIntervalStart: timestamp,
  dataIntervalEnd: timestamp,
  runAfter: timestamp.describe('The earliest instant the run is created'),
}));

export const schedulePreview = named('SchedulePreview', z.object({ items: z.array(runInterval) }));

export const importError = named('ImportError', z.object({
  fileloc: z.string(),
  message: z.string(),
  details: z.unknown(),
  updatedAt: timestamp,
}));

export const importErrorPage = page('ImportErrorPage', importError);

export const dagJsonSchemaDoc = named('DagJsonSchema', z.record(z.string(), z.unknown()), { description: 'A JSON Schema (draft 2020-12) document.' });
