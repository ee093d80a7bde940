import { Args, Context, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { CanOperate, CanRead } from '../../access/roles.decorator.js';
import { parseInput } from '../../common/validation.js';
import type { BackfillRow } from '../../backfills/domain/backfill.js';
import { BackfillsService, type BackfillView } from '../../backfills/backfills.service.js';
import { backfillId, backfillListFilter, createBackfillInput } from '../../backfills/domain/backfill-inputs.js';
import type { GraphqlContext } from '../context.js';
import { GraphqlLoaders } from '../loaders.js';
import { PageArgs } from '../pagination.js';
import { Backfill, BackfillCounts, BackfillItem, BackfillPage, CreateBackfillInput, CreateBackfillPayload } from './backfill.types.js';

/** A backfill from a list has no progress yet; a single one (get, create, pause, …) comes with it. */
type BackfillParent = BackfillRow & Partial<Pick<BackfillView, 'counts' | 'items'>>;

/** Backfills: the same BackfillsService calls and input schemas as REST's /api/v1/backfills. */
@Resolver(() => Backfill)
export class BackfillsResolver {
  constructor(
    private readonly backfills: BackfillsService,
    private readonly loaders: GraphqlLoaders,
  ) {}

  @Query(() => BackfillPage, { nullable: true, name: 'backfills', description: 'Backfills, newest first' })
  @CanRead()
  backfillList(@Args('dagId', { type: () => ID, nullable: true }) dagId: string | null, @Args() page: PageArgs) {
    return this.backfills.list(parseInput(backfillListFilter, { dagId: dagId ?? undefined, ...page }));
  }

  @Query(() => Backfill, { nullable: true, description: 'A backfill with its progress per state and per date' })
  @CanRead()
  backfill(@Args('id', { type: () => Int }) id: number) {
    return this.backfills.get(parseInput(backfillId, id, 'id'));
  }

  @ResolveField(() => BackfillCounts)
  async counts(@Parent() b: BackfillParent, @Context() ctx: GraphqlContext) {
    return b.counts ?? (await this.loaders.for(ctx).backfillProgress.load(b.id)).counts;
  }

  @ResolveField(() => [BackfillItem], { description: 'Every planned date, in the order they run' })
  async items(@Parent() b: BackfillParent, @Context() ctx: GraphqlContext) {
    return b.items ?? (await this.loaders.for(ctx).backfillProgress.load(b.id)).items;
  }

  @Mutation(() => CreateBackfillPayload, { description: 'Backfill a date range (dryRun returns the plan and writes nothing)' })
  @CanOperate()
  async createBackfill(@Args('input', { type: () => CreateBackfillInput }) input: CreateBackfillInput) {
    const result = await this.backfills.create(parseInput(createBackfillInput, input));
    return 'dryRun' in result ? { dryRun: true, backfill: null, plan: result } : { dryRun: false, backfill: result, plan: null };
  }

  @Mutation(() => Backfill, { description: 'Stop starting new dates' })
  @CanOperate()
  pauseBackfill(@Args('id', { type: () => Int }) id: number) {
    return this.backfills.pause(parseInput(backfillId, id, 'id'), true);
  }

  @Mutation(() => Backfill, { description: 'Resume starting dates' })
  @CanOperate()
  unpauseBackfill(@Args('id', { type: () => Int }) id: number) {
    return this.backfills.pause(parseInput(backfillId, id, 'id'), false);
  }

  @Mutation(() => Backfill, { description: 'Start no more dates; runs already started finish on their own' })
  @CanOperate()
  cancelBackfill(@Args('id', { type: () => Int }) id: number) {
    return this.backfills.cancel(parseInput(backfillId, id, 'id'));
  }
}
