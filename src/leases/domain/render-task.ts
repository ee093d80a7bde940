import type { DagTask } from '../../dags/domain/dag-document.schema.js';
import { renderDeep } from '../../templating/domain/render-template.js';
import type { TemplateContext } from '../../templating/domain/template-context.js';

/** Fields that describe scheduling, not the work: a worker never needs them. */
const SCHEDULING_FIELDS = new Set([
  'taskId', 'type', 'dependsOn', 'triggerRule', 'retries', 'retryDelaySec', 'retryExponentialBackoff',
  'maxRetryDelaySec', 'executionTimeoutSec', 'pool', 'poolSlots', 'queue', 'priorityWeight', 'sla', 'outlets',
  'xcomPull', 'doc',
]);

/**
 * The work part of a task (shell `command`/`env`/`cwd`, http `request`, sql `sql`/`connection`, custom `args`, …)
 * with every string rendered. Throws TemplateError when a template cannot be rendered.
 */
export function renderTaskPayload(task: DagTask, context: TemplateContext): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(task)) {
    if (!SCHEDULING_FIELDS.has(key)) payload[key] = value;
  }
  return renderDeep(payload, context);
}
