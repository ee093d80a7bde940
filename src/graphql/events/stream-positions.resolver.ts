import { Context, Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { backfillStream, dagRunStream, taskInstanceStream } from '../../events/domain/streams.js';
import type { GraphqlContext } from '../context.js';
import { Backfill } from '../backfills/backfill.types.js';
import { Dag } from '../dags/dag.types.js';
import { GraphqlLoaders } from '../loaders.js';
import { DagRun } from '../runs/run.types.js';

/**
 * Where a subscription stream stands, on the object it belongs to. Read it in a request of its own before the state
 * you show, then subscribe with `afterSequence` set to it: nothing is missed and nothing replayed (docs/graphql.md).
 */
const POSITION = 'The last sequence number of this object\'s subscription stream now (0 before its first event); read it before the state, then subscribe with afterSequence = it';

@Resolver(() => Dag)
export class DagStreamPositionResolver {
  constructor(private readonly loaders: GraphqlLoaders) {}

  @ResolveField(() => Int, { description: `dagRunStateChanged: ${POSITION}` })
  runEventSequence(@Parent() dag: { dagId: string }, @Context() ctx: GraphqlContext) {
    return this.loaders.for(ctx).streamPosition.load(dagRunStream(dag.dagId));
  }
}

@Resolver(() => DagRun)
export class DagRunStreamPositionResolver {
  constructor(private readonly loaders: GraphqlLoaders) {}

  @ResolveField(() => Int, { description: `taskInstanceStateChanged: ${POSITION}` })
  taskEventSequence(@Parent() run: { id: number }, @Context() ctx: GraphqlContext) {
    return this.loaders.for(ctx).streamPosition.load(taskInstanceStream(run.id));
  }
}

@Resolver(() => Backfill)
export class BackfillStreamPositionResolver {
  constructor(private readonly loaders: GraphqlLoaders) {}

  @ResolveField(() => Int, { description: `backfillProgress: ${POSITION}` })
  progressEventSequence(@Parent() backfill: { id: number }, @Context() ctx: GraphqlContext) {
    return this.loaders.for(ctx).streamPosition.load(backfillStream(backfill.id));
  }
}
