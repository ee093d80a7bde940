import { describe, expect, it } from '@jest/globals';
import { validateDagDocument } from './validate-dag.js';
import { dagOutboundTargets } from './outbound-targets.js';

const checks = { validateSchedule: () => null, validateTimezone: () => null };

describe(dagOutboundTargets.name, () => {
  it('lists webhook and Slack callbacks and http tasks, each with its path', () => {
    const result = validateDagDocument(
      {
        dagId: 'd',
        slaCallbacks: [{ type: 'email', to: ['a@example.com'] }, { type: 'webhook', url: 'http://10.0.0.1/h' }],
        onFailureCallbacks: [{ type: 'slack', webhookUrl: 'https://hooks.example/x' }],
        tasks: [
          { taskId: 'a', type: 'http', request: { method: 'GET', url: 'http://169.254.169.254/latest?x={{ ds }}' } },
          { taskId: 'c', type: 'noop' },
        ],
      },
      checks,
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(dagOutboundTargets(result.dag)).toEqual({
      callbacks: [
        { path: 'slaCallbacks[1].url', url: 'http://10.0.0.1/h' },
        { path: 'onFailureCallbacks[0].webhookUrl', url: 'https://hooks.example/x' },
      ],
      httpTasks: [{ path: 'tasks[0].request.url', url: 'http://169.254.169.254/latest?x={{ ds }}' }],
    });
  });
});
