import type { DagTask, DefaultArgs } from '../../../dags/domain/dag-document.schema.js';
import { renderDeep, renderShellCommand, templateParseProblems, type TemplateParseProblem } from '../../../templating/domain/render-template.js';
import type { TemplateContext } from '../../../templating/domain/template-context.js';

/** Fields that describe scheduling, not the work: a worker never needs them. */
const SCHEDULING_FIELDS = new Set([
  'taskId', 'type', 'dependsOn', 'triggerRule', 'retries', 'retryDelaySec', 'retryExponentialBackoff',
  'maxRetryDelaySec', 'executionTimeoutSec', 'pool', 'poolSlots', 'queue', 'priorityWeight', 'sla', 'outlets',
  'xcomPull', 'expand', 'group', 'branch', 'shortCircuit', 'ignoreDownstreamTriggerRules', 'doc',
]);

/**
 * The work part of a task (shell `command` or `argv`/`env`/`cwd`, http `request`, sql `sql`/`parameters`/`connection`,
 * custom `args`, …) with every string rendered; a shell `command`'s values are shell-quoted. A container task also
 * carries its DAG's pod template (`dagPodTemplate`), which the launcher merges between its cluster default and the
 * task's own. Throws TemplateError when a template cannot be rendered.
 */
export function renderTaskPayload(
  task: DagTask,
  context: TemplateContext,
  defaults?: Pick<DefaultArgs, 'podTemplate'>,
): Record<string, unknown> {
  const payload = workFields(task);
  if (task.type === 'container' && defaults?.podTemplate) payload.dagPodTemplate = defaults.podTemplate;
  // A shell command is shell syntax: its values are quoted for where they land (templating.md, "Shell commands").
  if (task.type === 'shell' && typeof payload.command === 'string') {
    const { command, ...rest } = payload;
    return { ...renderDeep(rest, context), command: renderShellCommand(command, context) };
  }
  return renderDeep(payload, context);
}

/**
 * The templates of a task (read leniently: a document not yet validated) that can never render, with their paths
 * inside the task (`['command']`, `['request', 'headers', 'X-Run']`): the same fields and engines as
 * renderTaskPayload, so registration refuses what every lease would fail on. (A DAG's podTemplate is checked by the
 * caller, once.)
 */
export function taskTemplateProblems(task: Record<string, unknown>): TemplateParseProblem[] {
  const { command, ...rest } = workFields(task);
  const shellCommand = task.type === 'shell' && typeof command === 'string';
  return [
    ...(shellCommand ? templateParseProblems(command, { shell: true }).map((p) => ({ ...p, path: ['command', ...p.path] })) : []),
    ...templateParseProblems(shellCommand ? rest : { command, ...rest }),
  ];
}

function workFields(task: Record<string, unknown>): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(task)) {
    if (!SCHEDULING_FIELDS.has(key)) payload[key] = value;
  }
  return payload;
}
