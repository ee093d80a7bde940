/**
 * Pipelines as code: a DAG document built with typed calls instead of written as JSON or YAML.
 *
 *   const dag = new Dag({ dagId: 'daily_etl', schedule: '0 6 * * *', startDate: '2024-01-01T00:00:00Z' });
 *   const extract = dag.shell('extract', { command: 'extract.sh {{ ds }}' });
 *   const load = dag.http('load', { request: { method: 'POST', url: 'https://example.com/load' } });
 *   extract.then(load);
 *   await dag.deploy();
 *
 * Every field type comes from ./generated/ (generated from the served JSON Schema), so a field added to the
 * document reaches these options by regenerating. `toJSON()` is the document sent to the service, nothing added.
 */
import type { Connection } from '../connection.js';
import { deployDocument, previewDocument, type DeployResult, type PreviewResult } from './deploy.js';
import type { CustomTask, DagDocument, ExternalTask, HttpTask, NoopTask, ShellTask, SqlTask } from './generated/dag-document.gen.js';
import { validateDagDocument, type DagIssue } from './validate.js';

/** Any task of the document (the union the JSON Schema allows). */
export type DagTask = DagDocument['tasks'][number];
/** A DAG's own fields: everything but its tasks, which the builder collects. */
export type DagOptions = Omit<DagDocument, 'tasks'>;
/** A task's fields but its id, type and dependencies (given by the method, and by then()/after()). */
export type TaskOptions<T extends DagTask> = Omit<T, 'taskId' | 'type' | 'dependsOn'>;

/** What then() and after() accept: a task, several, or a parallel() list. */
export type TaskRef = Task | TaskList | readonly Task[];

export class DagBuildError extends Error {}

/** One task of a Dag; wire dependencies with then()/after(). */
export class Task<T extends DagTask = DagTask> {
  private readonly upstreamIds: string[] = [];

  /** @internal use the Dag's methods (shell, http, …, task) */
  constructor(
    readonly dag: Dag,
    private readonly definition: Omit<T, 'dependsOn'>,
  ) {}

  get taskId(): string {
    return this.definition.taskId;
  }

  get type(): string {
    return this.definition.type;
  }

  /** Ids of the tasks this one runs after, in the order they were wired. */
  get upstream(): readonly string[] {
    return this.upstreamIds;
  }

  /**
   * Makes `next` run after this task; returns `next`, so chains read left to right: `a.then(b).then(c)`,
   * `a.then([b, c]).then(d)`. Not a promise: a Task is not awaited.
   */
  then<N extends TaskRef>(next: N): N extends readonly Task[] ? TaskList : N {
    return wire([this], next) as N extends readonly Task[] ? TaskList : N;
  }

  /** Makes this task run after every task given; returns this task. */
  after(...upstream: TaskRef[]): this {
    for (const ref of upstream) wire(tasksOf(ref, this.dag), this);
    return this;
  }

  /** The task as it appears in the document. */
  toJSON(): T {
    const { taskId, type, ...fields } = structuredClone(this.definition) as DagTask;
    return { taskId, type, ...(this.upstreamIds.length ? { dependsOn: [...this.upstreamIds] } : {}), ...fields } as T;
  }

  /** @internal */
  addUpstream(taskId: string): void {
    if (taskId === this.taskId) throw new DagBuildError(`task '${taskId}' cannot depend on itself`);
    if (!this.upstreamIds.includes(taskId)) this.upstreamIds.push(taskId);
  }
}

/** Tasks without an order between them: `parallel(a, b).then(c)` runs c after both. */
export class TaskList {
  readonly tasks: readonly Task[];

  constructor(tasks: readonly Task[]) {
    if (!tasks.length) throw new DagBuildError('a task list needs at least one task');
    this.tasks = [...tasks];
  }

  /** Makes `next` run after every task of this list; returns `next`. */
  then<N extends TaskRef>(next: N): N extends readonly Task[] ? TaskList : N {
    return wire(this.tasks, next) as N extends readonly Task[] ? TaskList : N;
  }
}

/** A list of tasks to fan in from: `parallel(a, b).then(c)` (what `[a, b] >> c` is in Python). */
export function parallel(...tasks: Task[]): TaskList {
  return new TaskList(tasks);
}

function tasksOf(ref: TaskRef, dag: Dag): readonly Task[] {
  if (typeof ref === 'function') {
    // `await task` or returning a Task from an async function calls then(resolve, reject).
    throw new DagBuildError('Task.then() wires a dependency; a Task is not a promise, so do not await it or return it from an async function');
  }
  const tasks = ref instanceof Task ? [ref] : ref instanceof TaskList ? ref.tasks : Array.isArray(ref) ? ref : null;
  if (!tasks || !tasks.every((t) => t instanceof Task)) throw new DagBuildError('expected a Task, an array of Tasks or parallel(...)');
  for (const t of tasks) {
    if (t.dag !== dag) throw new DagBuildError(`task '${t.taskId}' belongs to DAG '${t.dag.dagId}', not '${dag.dagId}'`);
  }
  return tasks;
}

function wire(upstream: readonly Task[], next: TaskRef): TaskRef {
  const dag = upstream[0]!.dag;
  const downstream = tasksOf(next, dag);
  for (const d of downstream) for (const u of upstream) d.addUpstream(u.taskId);
  return Array.isArray(next) ? new TaskList(downstream) : next;
}

export class Dag {
  private readonly options: DagOptions;
  private readonly tasks = new Map<string, Task>();

  constructor(options: DagOptions) {
    this.options = structuredClone(options);
  }

  get dagId(): string {
    return this.options.dagId;
  }

  /** Adds any task of the document, built-in or custom, given whole (its `dependsOn` ids are kept). */
  task<T extends DagTask>(definition: T): Task<T> {
    const { dependsOn, ...rest } = structuredClone(definition);
    if (this.tasks.has(rest.taskId)) throw new DagBuildError(`DAG '${this.dagId}' already has a task '${rest.taskId}'`);
    const task = new Task<T>(this, rest as Omit<T, 'dependsOn'>);
    for (const id of dependsOn ?? []) task.addUpstream(id);
    this.tasks.set(task.taskId, task as Task);
    return task;
  }

  shell(taskId: string, options: TaskOptions<ShellTask>): Task<ShellTask> {
    return this.task<ShellTask>({ taskId, type: 'shell', ...options });
  }

  http(taskId: string, options: TaskOptions<HttpTask>): Task<HttpTask> {
    return this.task<HttpTask>({ taskId, type: 'http', ...options });
  }

  sql(taskId: string, options: TaskOptions<SqlTask>): Task<SqlTask> {
    return this.task<SqlTask>({ taskId, type: 'sql', ...options });
  }

  noop(taskId: string, options: TaskOptions<NoopTask> = {}): Task<NoopTask> {
    return this.task<NoopTask>({ taskId, type: 'noop', ...options });
  }

  /** Waits, without a worker slot, for a task (or the whole run) of another DAG. */
  externalTask(taskId: string, options: TaskOptions<ExternalTask>): Task<ExternalTask> {
    return this.task<ExternalTask>({ taskId, type: 'external_task', ...options });
  }

  /** A task of a custom type, run by a worker that registered a handler for `type`. */
  custom(taskId: string, type: string, options: TaskOptions<CustomTask> = {}): Task<CustomTask> {
    return this.task<CustomTask>({ taskId, type, ...options });
  }

  /** The task with this id (throws when there is none). */
  get(taskId: string): Task {
    const task = this.tasks.get(taskId);
    if (!task) throw new DagBuildError(`DAG '${this.dagId}' has no task '${taskId}'`);
    return task;
  }

  /** The document: the DAG's options as given, then its tasks in the order they were added. */
  toJSON(): DagDocument {
    const { dagId, ...rest } = structuredClone(this.options);
    return { dagId, ...rest, tasks: [...this.tasks.values()].map((t) => t.toJSON()) as DagDocument['tasks'] };
  }

  /**
   * Problems found by the JSON Schema, as `{path, message}` (empty: none). The service checks more on deploy
   * (cycles, unknown dependencies, cron and time zone syntax): preview() asks it without writing.
   */
  validate(): DagIssue[] {
    return validateDagDocument(this.toJSON());
  }

  /** Registers the document: `created`, `updated` (a new version) or `unchanged`. Throws DagValidationError on problems. */
  deploy(connection: Connection = {}): Promise<DeployResult> {
    return deployDocument(this.toJSON(), connection);
  }

  /** What deploy() would do (create, update, unchanged) and the document the service would store; writes nothing. */
  preview(connection: Connection = {}): Promise<PreviewResult> {
    return previewDocument(this.toJSON(), connection);
  }
}
