import { templateParseProblems, type TemplateParseProblem } from '../../templating/domain/render-template.js';

/** Fields that describe scheduling, not the work: a worker never needs them, and they are never rendered. */
const SCHEDULING_FIELDS = new Set([
  'taskId', 'type', 'dependsOn', 'triggerRule', 'retries', 'retryDelaySec', 'retryExponentialBackoff',
  'maxRetryDelaySec', 'executionTimeoutSec', 'pool', 'poolSlots', 'queue', 'priorityWeight', 'sla', 'outlets',
  'xcomPull', 'expand', 'group', 'branch', 'shortCircuit', 'ignoreDownstreamTriggerRules', 'doc',
]);

/** The work part of a task (what a lease hands a worker, rendered): every field but the scheduling ones. */
export function taskWorkFields(task: object): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(task)) {
    if (!SCHEDULING_FIELDS.has(key)) payload[key] = value;
  }
  return payload;
}

/**
 * The templates of a task (read leniently: a document not yet validated) that can never render, with their paths
 * inside the task (`['command']`, `['request', 'headers', 'X-Run']`): the same fields and engines as the lease's
 * rendering (engine/leases/domain/render-task.ts), so registration refuses what every lease would fail on. (A DAG's
 * podTemplate is checked by the caller, once.)
 */
export function taskTemplateProblems(task: Record<string, unknown>): TemplateParseProblem[] {
  const { command, ...rest } = taskWorkFields(task);
  const shellCommand = task.type === 'shell' && typeof command === 'string';
  return [
    ...(shellCommand ? templateParseProblems(command, { shell: true }).map((p) => ({ ...p, path: ['command', ...p.path] })) : []),
    ...templateParseProblems(shellCommand ? rest : { command, ...rest }),
  ];
}
