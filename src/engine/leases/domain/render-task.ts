import type { DagTask, DefaultArgs } from '../../../dags/domain/dag-document.schema.js';
import { taskWorkFields } from '../../../dags/domain/task-work-fields.js';
import { renderDeep, renderShellCommand } from '../../../templating/domain/render-template.js';
import type { TemplateContext } from '../../../templating/domain/template-context.js';

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
  const payload = taskWorkFields(task);
  if (task.type === 'container' && defaults?.podTemplate) payload.dagPodTemplate = defaults.podTemplate;
  // A shell command is shell syntax: its values are quoted for where they land (templating.md, "Shell commands").
  if (task.type === 'shell' && typeof payload.command === 'string') {
    const { command, ...rest } = payload;
    return { ...renderDeep(rest, context), command: renderShellCommand(command, context) };
  }
  return renderDeep(payload, context);
}
