import { registerEnumType } from '@nestjs/graphql';
import { WEBHOOK_DELIVERY_STATES, WEBHOOK_EVENT_KINDS } from '../webhooks/domain/webhook-inputs.js';
import { API_KEY_ROLES } from '../auth/domain/api-key-inputs.js';
import { RUN_STATES } from '../engine/runs/domain/run-state.js';
import { RUN_TYPES } from '../engine/runs/domain/run-inputs.js';
import { TASK_STATES } from '../engine/runs/domain/task-state.js';

/**
 * GraphQL enums over the domain's own lists; their values are spelled exactly as in REST (`up_for_retry`), so both
 * transports show the same strings.
 */
function enumOf<const T extends readonly string[]>(values: T): { [K in T[number]]: K } {
  return Object.fromEntries(values.map((v) => [v, v])) as { [K in T[number]]: K };
}

export const TaskStateEnum = enumOf(TASK_STATES);
registerEnumType(TaskStateEnum, { name: 'TaskState', description: 'State of a task instance (DESIGN §4)' });

export const RunStateEnum = enumOf(RUN_STATES);
registerEnumType(RunStateEnum, { name: 'RunState', description: 'State of a DAG run' });

export const RunTypeEnum = enumOf(RUN_TYPES);
registerEnumType(RunTypeEnum, { name: 'RunType', description: 'What created a DAG run' });

export const MarkStateEnum = enumOf(['success', 'failed'] as const);
registerEnumType(MarkStateEnum, { name: 'MarkState', description: 'The states an operator may mark a run or task instance with' });

export const DagSourceEnum = enumOf(['api', 'folder'] as const);
registerEnumType(DagSourceEnum, { name: 'DagSource', description: 'Where a DAG is defined: registered through the API or read from the DAG folder' });

export const ReprocessBehaviorEnum = enumOf(['none', 'failed', 'completed'] as const);
registerEnumType(ReprocessBehaviorEnum, {
  name: 'ReprocessBehavior',
  description: 'Which dates that already have a run a backfill runs again: none, failed ones, or all completed ones',
});

export const BackfillStateEnum = enumOf(['running', 'paused', 'completed', 'canceled'] as const);
registerEnumType(BackfillStateEnum, { name: 'BackfillState' });

export const BackfillItemStatusEnum = enumOf(['pending', 'started', 'skipped'] as const);
registerEnumType(BackfillItemStatusEnum, { name: 'BackfillItemStatus' });

export const ApiKeyRoleEnum = enumOf(API_KEY_ROLES);
registerEnumType(ApiKeyRoleEnum, {
  name: 'ApiKeyRole',
  description: 'What a key may do: admin (everything), operator (run control and read), viewer (read), worker (the lease API)',
});

export const WebhookEventKindEnum = enumOf(WEBHOOK_EVENT_KINDS);
registerEnumType(WebhookEventKindEnum, { name: 'WebhookEventKind', description: 'The state changes a webhook can receive' });

export const WebhookDeliveryStateEnum = enumOf(WEBHOOK_DELIVERY_STATES);
registerEnumType(WebhookDeliveryStateEnum, { name: 'WebhookDeliveryState', description: 'pending until the receiver accepts it, then delivered' });
