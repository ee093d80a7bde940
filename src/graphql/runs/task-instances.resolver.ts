import { Args, Context, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { CanOperate, CanRead } from '../../access/roles.decorator.js';
import { parseInput } from '../../common/validation.js';
import { xcomKey, xcomValueInput } from '../../engine/leases/domain/xcom-inputs.js';
import { TaskDataService } from '../../engine/leases/task-data.service.js';
import { TaskRenderer } from '../../engine/leases/task-renderer.service.js';
import { markTaskInput } from '../../engine/runs/domain/run-inputs.js';
import { RunControlService } from '../../engine/runs/run-control.service.js';
import type { TaskInstanceView } from '../../engine/runs/runs.service.js';
import { RunsService } from '../../engine/runs/runs.service.js';
import type { GraphqlContext } from '../context.js';
import { GraphqlLoaders } from '../loaders.js';
import { JSONScalar } from '../scalars.js';
import { MarkTaskInstanceInput, MarkTaskInstancePayload, RenderedTask, TaskInstance, XComEntry } from './run.types.js';

/** Task instances and their XCom: the same service calls and input schemas as REST's .../taskInstances and .../xcomEntries. */
@Resolver(() => TaskInstance)
export class TaskInstancesResolver {
  constructor(
    private readonly runs: RunsService,
    private readonly control: RunControlService,
    private readonly taskData: TaskDataService,
    private readonly loaders: GraphqlLoaders,
    private readonly renderer: TaskRenderer,
  ) {}

  @Query(() => [TaskInstance], { nullable: true, description: 'Task instances of a run, with their tries' })
  @CanRead()
  taskInstances(@Args('dagId', { type: () => ID }) dagId: string, @Args('runId') runId: string) {
    return this.runs.taskInstances(dagId, runId);
  }

  @Query(() => TaskInstance, { nullable: true, description: 'One task instance with its tries' })
  @CanRead()
  taskInstance(
    @Args('dagId', { type: () => ID }) dagId: string,
    @Args('runId') runId: string,
    @Args('taskId') taskId: string,
    @Args('mapIndex', { type: () => Int, nullable: true, description: 'An instance of a mapped task; default −1 (unmapped)' }) mapIndex: number | null,
  ) {
    return this.runs.taskInstance(dagId, runId, taskId, mapIndex ?? -1);
  }

  @Query(() => RenderedTask, { nullable: true, description: 'The task\'s work fields rendered with its run\'s context (what its lease carries); a template error is answered in error' })
  @CanRead()
  renderedTask(
    @Args('dagId', { type: () => ID }) dagId: string,
    @Args('runId') runId: string,
    @Args('taskId') taskId: string,
    @Args('mapIndex', { type: () => Int, nullable: true, description: 'An instance of a mapped task; default −1 (unmapped)' }) mapIndex: number | null,
  ) {
    return this.renderer.renderTaskInstance(dagId, runId, taskId, mapIndex ?? -1);
  }

  @Query(() => [XComEntry], { nullable: true, description: 'XCom values published by a task instance, by key' })
  @CanRead()
  async xcomEntries(
    @Args('dagId', { type: () => ID }) dagId: string,
    @Args('runId') runId: string,
    @Args('taskId') taskId: string,
    @Args('mapIndex', { type: () => Int, nullable: true, description: 'An instance of a mapped task; default −1 (unmapped)' }) mapIndex: number | null,
  ) {
    return (await this.taskData.xcoms(dagId, runId, taskId, mapIndex ?? -1)).items;
  }

  @ResolveField(() => [XComEntry], { name: 'xcomEntries', description: 'XCom values of this task instance, by key (batched)' })
  xcomEntriesOf(@Parent() ti: TaskInstanceView, @Context() ctx: GraphqlContext) {
    return this.loaders.for(ctx).xcomsOfTaskInstance.load(ti.id);
  }

  @Mutation(() => MarkTaskInstancePayload, { description: 'Mark a task instance (and optionally its up/downstream) success or failed' })
  @CanOperate()
  markTaskInstance(
    @Args('dagId', { type: () => ID }) dagId: string,
    @Args('runId') runId: string,
    @Args('taskId') taskId: string,
    @Args('input', { type: () => MarkTaskInstanceInput }) input: MarkTaskInstanceInput,
    @Args('mapIndex', { type: () => Int, nullable: true, description: 'One instance of a mapped task; default: every instance' }) mapIndex: number | null,
  ) {
    return this.control.markTask(dagId, runId, taskId, { ...parseInput(markTaskInput, input), ...(mapIndex === null ? {} : { mapIndex }) });
  }

  @Mutation(() => XComEntry, { description: 'Set one XCom value of a task instance (operators fixing data by hand)' })
  @CanOperate()
  setXcomEntry(
    @Args('dagId', { type: () => ID }) dagId: string,
    @Args('runId') runId: string,
    @Args('taskId') taskId: string,
    @Args('key') key: string,
    @Args('value', { type: () => JSONScalar, nullable: true }) value: unknown,
    @Args('mapIndex', { type: () => Int, nullable: true, description: 'An instance of a mapped task; default −1 (unmapped)' }) mapIndex: number | null,
  ) {
    const checked = this.taskData.checkXcomValue(parseInput(xcomValueInput, { value }));
    return this.taskData.setXcom(dagId, runId, taskId, parseInput(xcomKey, key, 'key'), checked.value, mapIndex ?? -1);
  }
}
