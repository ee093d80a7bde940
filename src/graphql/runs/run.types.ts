import { Field, Float, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { MarkStateEnum, RunStateEnum, RunTypeEnum, TaskStateEnum } from '../enums.js';
import { Paginated } from '../pagination.js';
import { DateTimeScalar, JSONScalar } from '../scalars.js';

@ObjectType({ description: 'One attempt of a task instance' })
export class TaskTry {
  @Field(() => Int)
  tryNumber!: number;

  @Field(() => TaskStateEnum)
  state!: string;

  @Field(() => String, { nullable: true })
  workerId!: string | null;

  @Field(() => String, { nullable: true })
  hostname!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  startDate!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  endDate!: Date | null;

  @Field(() => String, { nullable: true })
  error!: string | null;
}

@ObjectType({ description: 'A value a task instance published (or an operator set)' })
export class XComEntry {
  @Field()
  key!: string;

  @Field(() => JSONScalar, { nullable: true })
  value!: unknown;

  @Field(() => Int, { description: 'The try that wrote the value' })
  tryNumber!: number;

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}

@ObjectType({ description: 'A task\'s work fields rendered with its run\'s context: what its lease carries (REST .../rendered)' })
export class RenderedTask {
  @Field(() => ID)
  dagId!: string;

  @Field()
  runId!: string;

  @Field()
  taskId!: string;

  @Field(() => Int, { description: '-1 unless the task instance is one of a mapped task\'s' })
  mapIndex!: number;

  @Field(() => JSONScalar, { nullable: true, description: 'A mapped instance\'s values of its task\'s expand keys' })
  expand?: Record<string, unknown>;

  @Field()
  taskType!: string;

  @Field(() => Int, { description: 'The task instance\'s current try (0 before its first attempt)' })
  tryNumber!: number;

  @Field(() => JSONScalar, { nullable: true, description: 'The work fields with every template rendered; null when rendering failed' })
  task!: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: 'Why rendering failed (a template error), or null' })
  error!: string | null;

  @Field(() => JSONScalar, { description: 'XCom of the tasks in xcomPull as it stands now: task id → key → value' })
  upstreamXcom!: Record<string, Record<string, unknown>>;

  @Field(() => JSONScalar)
  params!: Record<string, unknown>;

  @Field(() => JSONScalar)
  conf!: Record<string, unknown>;
}

@ObjectType({ description: 'One task of one DAG run' })
export class TaskInstance {
  @Field(() => Int)
  id!: number;

  @Field(() => Int)
  dagRunId!: number;

  @Field(() => ID)
  dagId!: string;

  @Field()
  runId!: string;

  @Field()
  taskId!: string;

  @Field(() => Int, { description: "Position among a mapped task's instances (0…n−1); −1 for an unmapped task" })
  mapIndex!: number;

  @Field(() => TaskStateEnum)
  state!: string;

  @Field(() => Int)
  tryNumber!: number;

  @Field(() => Int)
  maxTries!: number;

  @Field()
  taskType!: string;

  @Field()
  queue!: string;

  @Field()
  pool!: string;

  @Field(() => Int)
  poolSlots!: number;

  @Field(() => Int)
  priorityWeight!: number;

  @Field(() => DateTimeScalar)
  logicalDate!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  scheduledAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  queuedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  startDate!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  endDate!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  nextRetryAt!: Date | null;

  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Field(() => Float, { nullable: true })
  durationSec!: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'Why a queued task instance does not start, when it is not just waiting for a slot: its pool does not exist, no worker has polled its queue for over a minute, or the workers that poll it take only other task types',
  })
  stateReason!: string | null;

  @Field(() => [TaskTry], { description: 'Attempts, oldest first' })
  tries!: TaskTry[];
}

@ObjectType({ description: 'One run of a DAG' })
export class DagRun {
  @Field(() => Int)
  id!: number;

  @Field(() => ID)
  dagId!: string;

  @Field()
  runId!: string;

  @Field(() => Int, { description: 'The DAG version the run was created with (its internal id)' })
  dagVersionId!: number;

  @Field(() => RunTypeEnum)
  runType!: string;

  @Field(() => RunStateEnum)
  state!: string;

  @Field(() => DateTimeScalar)
  logicalDate!: Date;

  @Field(() => DateTimeScalar)
  dataIntervalStart!: Date;

  @Field(() => DateTimeScalar)
  dataIntervalEnd!: Date;

  @Field(() => DateTimeScalar)
  runAfter!: Date;

  @Field(() => JSONScalar)
  conf!: unknown;

  @Field(() => Int, { nullable: true })
  backfillId!: number | null;

  @Field(() => Int)
  clearNumber!: number;

  @Field(() => DateTimeScalar)
  queuedAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  startDate!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  endDate!: Date | null;
}

@ObjectType()
export class DagRunPage extends Paginated(DagRun) {}

@InputType({ description: 'Filters of a DAG’s run list' })
export class DagRunFilter {
  @Field(() => [RunStateEnum], { nullable: true })
  state?: string[];

  @Field(() => DateTimeScalar, { nullable: true })
  logicalDateGte?: string;

  @Field(() => DateTimeScalar, { nullable: true })
  logicalDateLte?: string;

  @Field(() => RunTypeEnum, { nullable: true })
  runType?: string;
}

@InputType()
export class TriggerDagRunInput {
  @Field(() => DateTimeScalar, { nullable: true, description: 'Default: now' })
  logicalDate?: string;

  @Field(() => JSONScalar, { nullable: true, description: 'An object: the run’s conf ({{ dag_run.conf.x }})' })
  conf?: unknown;

  @Field({ nullable: true, description: 'Default: manual__<logical date>; the same runId again returns the existing run' })
  runId?: string;
}

@ObjectType()
export class TriggerDagRunPayload {
  @Field(() => DagRun)
  run!: DagRun;

  @Field({ description: 'false when a run with that runId already existed (and is returned as it is)' })
  created!: boolean;
}

@InputType({ description: 'Which task instances to reset so they run again' })
export class ClearTaskInstancesInput {
  @Field(() => [String], { nullable: true, description: 'Default: every task' })
  taskIds?: string[];

  @Field(() => [Int], { nullable: true, description: 'Only these instances of the mapped tasks in taskIds (their up/downstream tasks are cleared whole)' })
  mapIndexes?: number[];

  @Field({ nullable: true, description: 'Default: false' })
  includeDownstream?: boolean;

  @Field({ nullable: true, description: 'Default: false' })
  includeUpstream?: boolean;

  @Field(() => [TaskStateEnum], { nullable: true, description: 'Only task instances in these states' })
  states?: string[];

  @Field({ nullable: true, description: 'Only failed and upstream_failed task instances (default: false)' })
  onlyFailed?: boolean;

  @Field(() => [String], { nullable: true, description: 'Default: every run (within the date range)' })
  runIds?: string[];

  @Field(() => DateTimeScalar, { nullable: true, description: 'Runs with a logical date at or after this' })
  startDate?: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Runs with a logical date at or before this' })
  endDate?: string;

  @Field({ nullable: true, description: 'Default: true (list what would be cleared, change nothing)' })
  dryRun?: boolean;
}

@ObjectType({ description: 'A task instance a clear or mark touched (or would touch, in a dry run), as it is after the action' })
export class AffectedTaskInstance {
  @Field()
  runId!: string;

  @Field()
  taskId!: string;

  @Field(() => Int, { description: '−1 for an unmapped task' })
  mapIndex!: number;

  @Field(() => TaskStateEnum, { description: 'The state after the action (in a dry run: the current state)' })
  state!: string;

  @Field(() => TaskStateEnum, { description: 'The state before the action' })
  previousState!: string;

  @Field(() => Int, { description: 'After the action' })
  tryNumber!: number;
}

@ObjectType()
export class ClearTaskInstancesPayload {
  @Field()
  dryRun!: boolean;

  @Field(() => [AffectedTaskInstance])
  taskInstances!: AffectedTaskInstance[];
}

@InputType()
export class MarkTaskInstanceInput {
  @Field(() => MarkStateEnum)
  newState!: string;

  @Field({ nullable: true, description: 'Default: false' })
  includeUpstream?: boolean;

  @Field({ nullable: true, description: 'Default: false' })
  includeDownstream?: boolean;

  @Field({ nullable: true, description: 'Default: false' })
  dryRun?: boolean;
}

@ObjectType()
export class MarkTaskInstancePayload {
  @Field()
  dryRun!: boolean;

  @Field(() => [AffectedTaskInstance])
  taskInstances!: AffectedTaskInstance[];

  @Field(() => RunStateEnum, { description: 'The run’s state afterwards' })
  runState!: string;
}
