import { Injectable } from '@nestjs/common';
import type { Queryable } from '../../database/pg.js';
import type { DagDocument } from '../../dags/domain/dag-document.schema.js';
import { buildTemplateContext, type TemplateContext, type UpstreamXcoms } from '../../templating/domain/template-context.js';
import { shapePulledXcom } from './domain/pulled-xcom.js';
import { RunsRepository } from './runs.repository.js';

/** The parts of a parsed DAG version a task's context needs (RunEngine.version). */
export type ContextVersion = { doc: DagDocument; tasks: ReadonlyMap<string, DagDocument['tasks'][number]> };

/** The run a task instance's template context is made of. */
export type ContextRun = {
  dagRunId: number;
  dagId: string;
  runId: string;
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  conf: Record<string, unknown>;
};

/** A task instance's template context, and the XCom it pulled. */
export type TaskContext = {
  context: TemplateContext;
  upstreamXcom: UpstreamXcoms;
  mapIndex: number;
  expand?: Record<string, unknown>;
};

/**
 * The one place a task instance's template context and XCom pulls are made: the worker-side renderer (TaskRenderer:
 * leases and the rendered-template view), the engine's built-in `branch` (its `choose`) and a mapped task's
 * expansion (its `expand` pulls) all read XCom through pull(), so a `choose` sees exactly what a shell command's
 * template sees. The shaping rule is shapePulledXcom's.
 */
@Injectable()
export class TaskContexts {
  constructor(private readonly runs: RunsRepository) {}

  /** The XCom of `taskIds` in a run (all keys, or `keys`): task id → key → value (shapePulledXcom). */
  async pull(db: Queryable, version: ContextVersion, dagRunId: number, taskIds: readonly string[], keys: string[] | null = null): Promise<UpstreamXcoms> {
    const ids = [...new Set(taskIds)];
    if (!ids.length) return {};
    const mapped = new Set(ids.filter((id) => version.tasks.get(id)?.expand));
    return shapePulledXcom(await this.runs.pulledXcomRows(db, dagRunId, ids, keys), mapped);
  }

  /**
   * The template context of task `taskId` of a run: dates, params, conf, the XCom of its `xcomPull` tasks as they
   * stand, and for a mapped instance its map index and `expand` values.
   */
  async of(
    db: Queryable,
    version: ContextVersion,
    run: ContextRun,
    taskId: string,
    instance?: { mapIndex: number; expand: Record<string, unknown> | null },
  ): Promise<TaskContext> {
    const upstreamXcom = await this.pull(db, version, run.dagRunId, version.tasks.get(taskId)?.xcomPull ?? []);
    const mapIndex = instance?.mapIndex ?? -1;
    const expand = instance?.expand ?? undefined;
    const context = buildTemplateContext({ ...run, params: version.doc.params, conf: run.conf, xcom: upstreamXcom, mapIndex, expand });
    return { context, upstreamXcom, mapIndex, ...(expand ? { expand } : {}) };
  }
}
