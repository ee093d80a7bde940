import { templateParseProblems } from '../../templating/domain/render-template.js';
import { ID_PATTERN } from '../../common/ids.js';
import { dagDocumentSchema, isoDateTimeSchema, type DagDocument } from './dag-document.schema.js';
import { formatIssuePath, type DagValidationIssue } from './dag-validation-issue.js';
import { taskTemplateProblems } from './task-work-fields.js';
import { BASE_CONTAINER } from './kubernetes-fields.js';
import { isRecord, translateSchemaIssues } from './schema-issues.js';
import { didYouMean } from './suggest.js';
import { detectCycles, formatCycle, upstreamChecker, type TaskGraphNode } from './task-graph.js';

export type { DagValidationIssue } from './dag-validation-issue.js';
export { detectCycle, detectCycles, topologicalOrder } from './task-graph.js';

/** Schedule and timezone syntax belong to the scheduler; each check returns a reason, or null when all is well. */
export type DagValidationChecks = {
  validateSchedule(expr: string): string | null;
  validateTimezone(tz: string): string | null;
};

export type DagValidationResult = { ok: true; dag: DagDocument } | { ok: false; errors: DagValidationIssue[] };

/**
 * Validates a DAG document and returns it normalised (defaults applied), or every problem found: the schema's
 * complaints and the rules that span fields and tasks are all reported together, so one round trip fixes a file.
 * The cross-field rules read the raw input leniently, skipping whatever the schema already rejected.
 */
export function validateDagDocument(input: unknown, checks: DagValidationChecks): DagValidationResult {
  const parsed = dagDocumentSchema.safeParse(input);
  const errors = parsed.success ? [] : translateSchemaIssues(parsed.error.issues, input);
  if (isRecord(input)) {
    errors.push(...documentRuleIssues(input, checks));
    if (Array.isArray(input.tasks)) {
      errors.push(...taskRuleIssues(input.tasks, Array.isArray(input.groups) ? input.groups : []));
      errors.push(...containerImageIssues(input.tasks, isRecord(input.defaultArgs) ? input.defaultArgs.podTemplate : undefined));
      errors.push(...templateIssues(input.tasks, isRecord(input.defaultArgs) ? input.defaultArgs.podTemplate : undefined));
    }
  }
  if (parsed.success && errors.length === 0) return { ok: true, dag: expandGroupDependencies(parsed.data) };
  return { ok: false, errors: unique(errors.length > 0 ? errors : [{ path: '', message: 'invalid DAG document' }]) };
}

function documentRuleIssues(doc: Record<string, unknown>, checks: DagValidationChecks): DagValidationIssue[] {
  const issues: DagValidationIssue[] = [];
  const { schedule, timezone, startDate, endDate } = doc;
  if (typeof schedule === 'string' && schedule !== '') {
    const reason = checks.validateSchedule(schedule);
    if (reason !== null) issues.push({ path: 'schedule', message: reason });
    if (startDate === undefined || startDate === null) {
      issues.push({
        path: 'startDate',
        message: `required when schedule is a cron or preset expression ('${schedule}')`,
      });
    }
  }
  if (typeof timezone === 'string' && timezone !== '') {
    const reason = checks.validateTimezone(timezone);
    if (reason !== null) issues.push({ path: 'timezone', message: reason });
  }
  const start = instant(startDate);
  const end = instant(endDate);
  if (start !== undefined && end !== undefined) {
    // @once runs at startDate and its interval ends there, so an endDate equal to startDate keeps that run (as
    // Airflow's OnceTimetable does); any other window that ends at or before it starts holds no run at all.
    const once = typeof schedule === 'string' && schedule.trim() === '@once';
    if (once && end < start) {
      issues.push({ path: 'endDate', message: `must not be before startDate (${String(startDate)}): @once runs once, at startDate` });
    } else if (!once && end <= start) {
      issues.push({ path: 'endDate', message: `must be after startDate (${String(startDate)})` });
    }
  }
  return issues;
}

function instant(value: unknown): number | undefined {
  return isoDateTimeSchema.safeParse(value).success ? Date.parse(value as string) : undefined;
}

type TaskView = {
  index: number;
  taskId: string | undefined;
  dependsOn: Array<{ at: number; id: string }>;
  xcomPull: Array<{ at: number; id: string }>;
  task: Record<string, unknown>;
};

/**
 * A `dependsOn` entry naming a task group means every task of the group: the stored document has it expanded (in
 * the group's task order, without duplicates), so everything that reads dependencies sees tasks only. A document
 * without groups is returned as it is (its content hash unchanged).
 */
export function expandGroupDependencies(dag: DagDocument): DagDocument {
  if (!dag.groups?.length) return dag;
  const members = new Map<string, string[]>(dag.groups.map((g) => [g.groupId, []]));
  for (const t of dag.tasks) if (t.group) members.get(t.group)?.push(t.taskId);
  return {
    ...dag,
    tasks: dag.tasks.map((t) => {
      if (!t.dependsOn.some((id) => members.has(id))) return t;
      const expanded = t.dependsOn.flatMap((id) => members.get(id) ?? [id]).filter((id) => id !== t.taskId);
      return { ...t, dependsOn: [...new Set(expanded)] };
    }),
  };
}

/** Group rules: unique ids that are not task ids, tasks naming declared groups; returns each group's task ids. */
function groupIssues(rawGroups: readonly unknown[], views: TaskView[], issues: DagValidationIssue[]): Map<string, string[]> {
  const members = new Map<string, string[]>();
  const taskIds = new Set(views.map((v) => v.taskId).filter((id): id is string => id !== undefined));
  rawGroups.forEach((group, index) => {
    if (!isRecord(group) || typeof group.groupId !== 'string') return;
    const path = formatIssuePath(['groups', index, 'groupId']);
    if (members.has(group.groupId)) issues.push({ path, message: `duplicate groupId '${group.groupId}'` });
    else if (taskIds.has(group.groupId)) issues.push({ path, message: `'${group.groupId}' is already a task id: a group needs an id of its own` });
    else members.set(group.groupId, []);
  });
  for (const view of views) {
    const group = view.task.group;
    if (typeof group !== 'string' || view.taskId === undefined) continue;
    const list = members.get(group);
    if (list) list.push(view.taskId);
    else if (ID_PATTERN.test(group)) {
      issues.push({ path: formatIssuePath(['tasks', view.index, 'group']), message: `unknown group '${group}' (declare it in groups)${didYouMean(group, [...members.keys()])}` });
    }
  }
  return members;
}

/** Rules across tasks: duplicate ids, dependencies on unknown tasks or on itself, cycles, xcomPull, sensor states. */
function taskRuleIssues(rawTasks: readonly unknown[], rawGroups: readonly unknown[] = []): DagValidationIssue[] {
  const issues: DagValidationIssue[] = [];
  const views = rawTasks.flatMap((task, index): TaskView[] => {
    if (!isRecord(task)) return [];
    const taskId = typeof task.taskId === 'string' ? task.taskId : undefined;
    return [{ index, task, taskId, dependsOn: idList(task.dependsOn), xcomPull: idList(task.xcomPull) }];
  });

  for (const view of views) {
    if (view.task.type !== 'shell') continue;
    const has = (k: string) => view.task[k] !== undefined;
    if (!has('command') && !has('argv')) {
      issues.push({ path: `tasks[${view.index}].command`, message: "missing required field 'command' (or give argv, run without a shell)" });
    } else if (has('command') && has('argv')) {
      issues.push({ path: `tasks[${view.index}].argv`, message: 'give command (run by /bin/sh) or argv (run without a shell), not both' });
    }
  }

  const firstIndex = new Map<string, number>();
  for (const view of views) {
    if (view.taskId === undefined) continue;
    const first = firstIndex.get(view.taskId);
    if (first === undefined) firstIndex.set(view.taskId, view.index);
    else {
      issues.push({
        path: `tasks[${view.index}].taskId`,
        message: `duplicate taskId '${view.taskId}' (already used by tasks[${first}])`,
      });
    }
  }
  const ids = [...firstIndex.keys()];
  const groups = groupIssues(rawGroups, views, issues);

  const graph: TaskGraphNode[] = [];
  for (const view of views) {
    const where = (at: number) => formatIssuePath(['tasks', view.index, 'dependsOn', at]);
    const listed = new Set<string>();
    const upstream: string[] = [];
    for (const { at, id } of view.dependsOn) {
      if (id === view.taskId) issues.push({ path: where(at), message: `task '${id}' cannot depend on itself` });
      else if (listed.has(id)) issues.push({ path: where(at), message: `'${id}' is listed more than once` });
      else if (firstIndex.has(id)) upstream.push(id);
      else if (groups.has(id)) {
        if (view.task.group === id) issues.push({ path: where(at), message: `task '${view.taskId}' cannot depend on its own group '${id}'` });
        else for (const member of groups.get(id)!) if (!upstream.includes(member)) upstream.push(member);
      } else if (ID_PATTERN.test(id)) {
        issues.push({ path: where(at), message: `unknown task '${id}' in dependsOn${didYouMean(id, [...ids, ...groups.keys()])}` });
      }
      listed.add(id);
    }
    if (view.taskId !== undefined && firstIndex.get(view.taskId) === view.index) {
      graph.push({ taskId: view.taskId, dependsOn: upstream });
    }
  }

  for (const cycle of detectCycles(graph)) {
    issues.push({ path: 'tasks', message: `cycle detected: ${formatCycle(cycle)}` });
  }

  const isUpstream = upstreamChecker(graph);
  for (const view of views) {
    const taskId = view.taskId;
    if (taskId === undefined) continue;
    for (const { at, id } of view.xcomPull) {
      const path = formatIssuePath(['tasks', view.index, 'xcomPull', at]);
      if (!firstIndex.has(id)) {
        if (ID_PATTERN.test(id)) {
          issues.push({ path, message: `unknown task '${id}' in xcomPull${didYouMean(id, ids)}` });
        }
      } else if (!isUpstream(id, taskId)) {
        issues.push({
          path,
          message:
            `'${id}' is not upstream of '${taskId}'; ` +
            `xcomPull may only name tasks that '${taskId}' depends on, directly or transitively`,
        });
      }
    }
    issues.push(...sensorStateIssues(view));
    issues.push(...expandIssues(view, firstIndex, ids));
  }
  return issues;
}

/**
 * A mapped task expands over its direct upstream tasks' XCom (known once they are done), so `expand.*.xcomPull.taskId`
 * must be in its dependsOn; a sensor cannot be mapped.
 */
function expandIssues({ task, index, taskId }: TaskView, firstIndex: Map<string, number>, ids: string[]): DagValidationIssue[] {
  const issues: DagValidationIssue[] = [];
  const branch = task.branch === true || task.type === 'branch';
  if (branch && task.shortCircuit === true) {
    issues.push({ path: formatIssuePath(['tasks', index, 'shortCircuit']), message: 'a task is a branch or a short-circuit, not both' });
  }
  if (task.ignoreDownstreamTriggerRules !== undefined && task.shortCircuit !== true) {
    issues.push({ path: formatIssuePath(['tasks', index, 'ignoreDownstreamTriggerRules']), message: 'only a shortCircuit task has this setting' });
  }
  if (!isRecord(task.expand)) return issues;
  if (branch || task.shortCircuit === true) {
    issues.push({ path: formatIssuePath(['tasks', index, 'expand']), message: 'a branch or short-circuit task cannot be mapped' });
  }
  if (task.type === 'external_task') {
    issues.push({ path: formatIssuePath(['tasks', index, 'expand']), message: 'an external_task sensor cannot be mapped' });
  }
  const dependsOn = Array.isArray(task.dependsOn) ? task.dependsOn : [];
  for (const [key, source] of Object.entries(task.expand)) {
    if (!isRecord(source) || !isRecord(source.xcomPull) || typeof source.xcomPull.taskId !== 'string') continue;
    const from = source.xcomPull.taskId;
    const path = formatIssuePath(['tasks', index, 'expand', key, 'xcomPull', 'taskId']);
    if (!firstIndex.has(from)) {
      if (ID_PATTERN.test(from)) issues.push({ path, message: `unknown task '${from}'${didYouMean(from, ids)}` });
    } else if (from === taskId) {
      issues.push({ path, message: 'a task cannot expand over its own XCom' });
    } else if (!dependsOn.includes(from)) {
      issues.push({ path, message: `'${from}' must be in dependsOn: a task expands over the XCom of tasks it directly depends on` });
    }
  }
  return issues;
}

/** An external_task sensor cannot treat one state as both success and failure (defaults included). */
function sensorStateIssues({ task, index }: TaskView): DagValidationIssue[] {
  if (task.type !== 'external_task') return [];
  const allowed = Array.isArray(task.allowedStates) ? task.allowedStates : ['success'];
  const failed = Array.isArray(task.failedStates) ? task.failedStates : ['failed', 'upstream_failed'];
  const field = Array.isArray(task.failedStates) ? 'failedStates' : 'allowedStates';
  return allowed
    .filter((state) => typeof state === 'string' && failed.includes(state))
    .map((state) => ({
      path: formatIssuePath(['tasks', index, field]),
      message: `state '${String(state)}' cannot be in both allowedStates and failedStates`,
    }));
}

/**
 * Templates that can never render (a syntax error, an unknown filter or tag) are refused here, naming the field,
 * rather than failing every attempt of their task; the DAG's podTemplate counts when a container task uses it.
 */
function templateIssues(rawTasks: readonly unknown[], dagPodTemplate: unknown): DagValidationIssue[] {
  const issues = rawTasks.flatMap((task, index) =>
    isRecord(task) ? taskTemplateProblems(task).map((p) => ({ path: formatIssuePath(['tasks', index, ...p.path]), message: p.message })) : [],
  );
  if (dagPodTemplate !== undefined && rawTasks.some((task) => isRecord(task) && task.type === 'container')) {
    for (const p of templateParseProblems(dagPodTemplate)) {
      issues.push({ path: formatIssuePath(['defaultArgs', 'podTemplate', ...p.path]), message: p.message });
    }
  }
  return issues;
}

/**
 * A container task needs an image: its own `image`, or the 'base' container's in its own or the DAG's podTemplate.
 * (The launcher's cluster default is not known here; an image only there is not enough.)
 */
function containerImageIssues(rawTasks: readonly unknown[], dagTemplate: unknown): DagValidationIssue[] {
  if (baseImage(dagTemplate)) return [];
  return rawTasks.flatMap((task, index) =>
    isRecord(task) && task.type === 'container' && task.image === undefined && !baseImage(task.podTemplate)
      ? [{
          path: formatIssuePath(['tasks', index, 'image']),
          message: `a container task needs an image: set 'image', or the image of the '${BASE_CONTAINER}' container in its podTemplate or in defaultArgs.podTemplate`,
        }]
      : [],
  );
}

function baseImage(template: unknown): boolean {
  const containers = isRecord(template) && isRecord(template.spec) ? template.spec.containers : undefined;
  return Array.isArray(containers) && containers.some((c) => isRecord(c) && c.name === BASE_CONTAINER && typeof c.image === 'string');
}

function idList(value: unknown): Array<{ at: number; id: string }> {
  if (!Array.isArray(value)) return [];
  return value.flatMap((id: unknown, at) => (typeof id === 'string' ? [{ at, id }] : []));
}

function unique(issues: DagValidationIssue[]): DagValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
