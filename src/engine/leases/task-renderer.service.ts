import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../../database/pg.js';
import { TemplateError } from '../../templating/domain/template-error.js';
import { RunEngine } from '../runs/run-engine.service.js';
import { RunsService } from '../runs/runs.service.js';
import { TaskContexts } from '../runs/task-contexts.service.js';
import { renderTaskPayload } from './domain/render-task.js';
import { LeasesRepository } from './leases.repository.js';

/** A task instance whose task is missing from its run's DAG version (a failed rendering, not a server error). */
export class TaskNotInVersion extends Error {
  constructor(taskId: string, dagVersionId: number) {
    super(`task '${taskId}' is not in DAG version ${dagVersionId}`);
  }
}

/** What a task is rendered with: its run (version, dates, conf) and the task. */
export type RenderTarget = {
  dagVersionId: number;
  dagRunId: number;
  dagId: string;
  runId: string;
  taskId: string;
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  conf: Record<string, unknown>;
};

/** A mapped task's instance: its map index and its values of the task's `expand` keys. */
export type MappedInstance = { mapIndex: number; expand: Record<string, unknown> | null };

/** A task's work fields rendered with its run's context, and what that context was made of. */
export type RenderedTask = {
  mapIndex: number;
  /** A mapped instance's expand values; absent when unmapped. */
  expand?: Record<string, unknown>;
  params: Record<string, unknown>;
  upstreamXcom: Record<string, Record<string, unknown>>;
  task: Record<string, unknown>;
};

/** What the rendered-template view answers: the rendering, or why it failed (a template error is not a 500). */
export type RenderedTaskView = {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  expand?: Record<string, unknown>;
  taskType: string;
  tryNumber: number;
  task: Record<string, unknown> | null;
  error: string | null;
  upstreamXcom: Record<string, Record<string, unknown>>;
  params: Record<string, unknown>;
  conf: Record<string, unknown>;
};

/**
 * Renders a task's work fields (command, request, sql, args, …) with its run's template context: the one code path
 * behind both a worker's lease and the rendered-template view, so what an operator reads is what a worker receives.
 */
@Injectable()
export class TaskRenderer {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly engine: RunEngine,
    private readonly runsService: RunsService,
    private readonly leases: LeasesRepository,
    private readonly contexts: TaskContexts,
  ) {}

  /**
   * The task rendered with its run's context (dates, params, conf, the XCom of its `xcomPull` tasks as they stand:
   * TaskContexts, which the engine's built-in branch uses too).
   * Throws TemplateError when a template cannot be rendered, TaskNotInVersion when the task is not in the run's version.
   */
  async render(db: Queryable, t: RenderTarget, instance?: MappedInstance): Promise<RenderedTask> {
    const { doc, tasks } = await this.engine.version(db, t.dagVersionId);
    const task = tasks.get(t.taskId);
    if (!task) throw new TaskNotInVersion(t.taskId, t.dagVersionId);
    const { context, upstreamXcom, mapIndex, expand } = await this.contexts.of(db, { doc, tasks }, t, t.taskId, instance);
    return {
      mapIndex,
      ...(expand ? { expand } : {}),
      params: doc.params,
      upstreamXcom: upstreamXcom as Record<string, Record<string, unknown>>,
      task: renderTaskPayload(task, context, doc.defaultArgs),
    };
  }

  /** Map index and expand values of the mapped ones among claimed tasks, by task instance id (one statement). */
  async mappedInstances(db: Queryable, claimed: { taskInstanceId: number; dagVersionId: number; taskId: string }[]): Promise<Map<number, MappedInstance>> {
    const ids: number[] = [];
    for (const c of claimed) {
      if ((await this.engine.version(db, c.dagVersionId)).tasks.get(c.taskId)?.expand) ids.push(c.taskInstanceId);
    }
    return this.leases.mappedInstances(db, ids);
  }

  /**
   * The rendered-template view of a task instance (Airflow's "Rendered Template"): rendered now, with the upstream
   * XCom as it stands now, which is what its next lease would carry. A template error is answered in `error`.
   */
  async renderTaskInstance(dagId: string, runId: string, taskId: string, mapIndex = -1): Promise<RenderedTaskView> {
    const run = await this.runsService.get(dagId, runId);
    const ti = await this.runsService.taskInstance(dagId, runId, taskId, mapIndex);
    const instance = (await this.mappedInstances(this.pool, [{ taskInstanceId: ti.id, dagVersionId: run.dagVersionId, taskId }])).get(ti.id);
    const base = { dagId, runId, taskId, mapIndex, taskType: ti.taskType, tryNumber: ti.tryNumber, conf: run.conf };
    try {
      const r = await this.render(this.pool, { ...run, dagRunId: run.id, taskId }, instance);
      return { ...base, ...r, error: null };
    } catch (err) {
      if (!(err instanceof TemplateError) && !(err instanceof TaskNotInVersion)) throw err;
      const { doc } = await this.engine.version(this.pool, run.dagVersionId);
      const expand = instance?.expand ?? undefined;
      return { ...base, ...(expand ? { expand } : {}), task: null, error: `rendering the task failed: ${err.message}`, upstreamXcom: {}, params: doc.params };
    }
  }
}
