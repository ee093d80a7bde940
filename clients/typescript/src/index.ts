export * from './generated/index.js';
export { client } from './generated/client.gen.js';
export { createClient, createConfig, type Client } from './generated/client/index.js';
export { TaskFailure, Worker, WorkerRefusedError, type CancelReason, type TaskContext, type TaskHandler, type WorkerOptions } from './worker.js';
export { clientFor, unwrap, WeftApiError, type Connection } from './connection.js';
export { Dag, DagBuildError, parallel, Task, TaskList, type DagOptions, type DagTask, type TaskOptions, type TaskRef } from './dag/dag.js';
export { deployDocument, previewDocument, type DeployResult, type DeployStatus, type PreviewResult } from './dag/deploy.js';
export { formatPath, validateDagDocument, type DagIssue } from './dag/validate.js';
export type {
  CustomTask as CustomTaskDefinition,
  DagDocument as DagDefinition,
  ExternalTask as ExternalTaskDefinition,
  HttpTask as HttpTaskDefinition,
  NoopTask as NoopTaskDefinition,
  ShellTask as ShellTaskDefinition,
  SqlTask as SqlTaskDefinition,
} from './dag/generated/dag-document.gen.js';
