import { Args, Context, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { CanOperate, CanRead } from '../../access/roles.decorator.js';
import { parseInput } from '../../common/validation.js';
import { clearTasksInput, markRunInput, runListFilter, triggerRunInput } from '../../engine/runs/domain/run-inputs.js';
import { RunControlService } from '../../engine/runs/run-control.service.js';
import type { RunRow } from '../../engine/runs/domain/run-rows.js';
import { RunsService } from '../../engine/runs/runs.service.js';
import type { GraphqlContext } from '../context.js';
import { MarkStateEnum } from '../enums.js';
import { GraphqlLoaders } from '../loaders.js';
import { PageArgs } from '../pagination.js';
import {
  ClearTaskInstancesInput,
  ClearTaskInstancesPayload,
  DagRun,
  DagRunFilter,
  DagRunPage,
  TaskInstance,
  TriggerDagRunInput,
  TriggerDagRunPayload,
} from './run.types.js';

/** DAG runs: the same RunsService / RunControlService calls and input schemas as REST's /api/v1/dags/{dagId}/dagRuns. */
@Resolver(() => DagRun)
export class RunsResolver {
  constructor(
    private readonly runs: RunsService,
    private readonly control: RunControlService,
    private readonly loaders: GraphqlLoaders,
  ) {}

  @Query(() => DagRunPage, { nullable: true, description: 'Runs of a DAG, newest logical date first' })
  @CanRead()
  dagRuns(
    @Args('dagId', { type: () => ID }) dagId: string,
    @Args('filter', { type: () => DagRunFilter, nullable: true }) filter: DagRunFilter | null,
    @Args() page: PageArgs,
  ) {
    return this.runs.list({ dagId, ...parseInput(runListFilter, { ...filter, ...page }) });
  }

  @Query(() => DagRun, { nullable: true, description: 'One run (NOT_FOUND when it does not exist)' })
  @CanRead()
  dagRun(@Args('dagId', { type: () => ID }) dagId: string, @Args('runId') runId: string) {
    return this.runs.get(dagId, runId);
  }

  @ResolveField(() => [TaskInstance], { description: 'The run’s task instances with their tries (batched across runs)' })
  taskInstances(@Parent() run: RunRow, @Context() ctx: GraphqlContext) {
    return this.loaders.for(ctx).taskInstancesOfRun.load(run.id);
  }

  @Mutation(() => TriggerDagRunPayload, { description: 'Trigger a run; the same runId again returns the existing run' })
  @CanOperate()
  triggerDagRun(
    @Args('dagId', { type: () => ID }) dagId: string,
    @Args('input', { type: () => TriggerDagRunInput, nullable: true }) input: TriggerDagRunInput | null,
  ) {
    return this.runs.trigger(dagId, parseInput(triggerRunInput, input ?? {}));
  }

  @Mutation(() => DagRun, { description: 'Mark a whole run success or failed' })
  @CanOperate()
  markDagRun(
    @Args('dagId', { type: () => ID }) dagId: string,
    @Args('runId') runId: string,
    @Args('state', { type: () => MarkStateEnum }) state: string,
  ) {
    return this.control.markRun(dagId, runId, parseInput(markRunInput, { state }).state);
  }

  @Mutation(() => ClearTaskInstancesPayload, {
    description: 'Reset task instances so they run again (dryRun defaults to true and lists what would be cleared)',
  })
  @CanOperate()
  clearTaskInstances(
    @Args('dagId', { type: () => ID }) dagId: string,
    @Args('input', { type: () => ClearTaskInstancesInput, nullable: true }) input: ClearTaskInstancesInput | null,
  ) {
    return this.control.clear(dagId, parseInput(clearTasksInput, input ?? {}));
  }
}
