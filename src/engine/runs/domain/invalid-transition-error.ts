import { DomainError } from '../../../common/errors.js';

export type TransitionEntity = 'task' | 'run';

const ENTITY_NAME: Record<TransitionEntity, string> = { task: 'task instance', run: 'dag run' };

/** A state write the transition table does not allow; mapped to 409 by the error table (code INVALID_TRANSITION). */
export class InvalidTransitionError extends DomainError {
  constructor(
    readonly entity: TransitionEntity,
    readonly from: string,
    readonly to: string,
  ) {
    super('INVALID_TRANSITION', `${ENTITY_NAME[entity]} cannot go from ${from} to ${to}`, { entity, from, to });
    this.name = 'InvalidTransitionError';
  }
}
