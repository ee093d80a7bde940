import { Args, Context, ID, Int, Resolver, Subscription } from '@nestjs/graphql';
import { CanRead } from '../../access/roles.decorator.js';
import { SubscriptionsService } from '../../events/subscriptions.service.js';
import { subscriberOf, type GraphqlContext } from '../context.js';
import { BackfillProgressEvent, DagRunStateEvent, TaskInstanceStateEvent, TaskLogChunk } from './event.types.js';

const AFTER = 'Resume after this sequence number (events still kept in the outbox are replayed); default: from now on';
/** The iterator yields the event objects themselves. */
const asIs = <T>(value: T): T => value;

/** Live state changes over graphql-ws. Authorised at connection_init, when subscribing and for every event. */
@Resolver()
export class SubscriptionsResolver {
  constructor(private readonly events: SubscriptionsService) {}

  @Subscription(() => TaskInstanceStateEvent, { resolve: asIs, description: 'Every state change of the task instances of one run' })
  @CanRead()
  taskInstanceStateChanged(
    @Args('dagId', { type: () => ID }) dagId: string,
    @Args('runId') runId: string,
    @Args('afterSequence', { type: () => Int, nullable: true, description: AFTER }) afterSequence: number | null,
    @Context() ctx: GraphqlContext,
  ) {
    return this.events.taskInstanceStateChanged(subscriberOf(ctx), dagId, runId, afterSequence ?? undefined);
  }

  @Subscription(() => DagRunStateEvent, { resolve: asIs, description: 'Every state change of the runs of one DAG, new runs included' })
  @CanRead()
  dagRunStateChanged(
    @Args('dagId', { type: () => ID }) dagId: string,
    @Args('afterSequence', { type: () => Int, nullable: true, description: AFTER }) afterSequence: number | null,
    @Context() ctx: GraphqlContext,
  ) {
    return this.events.dagRunStateChanged(subscriberOf(ctx), dagId, afterSequence ?? undefined);
  }

  @Subscription(() => BackfillProgressEvent, { resolve: asIs, description: 'Progress of one backfill, whenever it changes' })
  @CanRead()
  backfillProgress(
    @Args('backfillId', { type: () => Int }) backfillId: number,
    @Args('afterSequence', { type: () => Int, nullable: true, description: AFTER }) afterSequence: number | null,
    @Context() ctx: GraphqlContext,
  ) {
    return this.events.backfillProgress(subscriberOf(ctx), backfillId, afterSequence ?? undefined);
  }

  @Subscription(() => TaskLogChunk, {
    resolve: asIs,
    description: 'The log lines of a task instance (one try, or all tries) after afterId, then live as they are appended',
  })
  @CanRead()
  taskLogLines(
    @Args('dagId', { type: () => ID }) dagId: string,
    @Args('runId') runId: string,
    @Args('taskId') taskId: string,
    @Args('tryNumber', { type: () => Int, nullable: true, description: 'One try; default: every try' }) tryNumber: number | null,
    @Args('afterId', { type: () => String, nullable: true, description: 'Resume after this line id; default: from the first line' }) afterId: string | null,
    @Args('mapIndex', { type: () => Int, nullable: true, description: 'An instance of a mapped task; default −1 (unmapped)' }) mapIndex: number | null,
    @Context() ctx: GraphqlContext,
  ) {
    return this.events.taskLogLines(subscriberOf(ctx), { dagId, runId, taskId, mapIndex: mapIndex ?? -1 }, tryNumber ?? null, afterId ?? null);
  }
}
