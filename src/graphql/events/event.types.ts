import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { RunStateEnum, RunTypeEnum, TaskStateEnum } from '../enums.js';
import { DateTimeScalar } from '../scalars.js';

const SEQUENCE = 'Position of the event in its stream: 1, 2, 3… with no gaps, in commit order. Resubscribe with afterSequence to resume.';

@ObjectType({ description: 'A task instance of a run changed state' })
export class TaskInstanceStateEvent {
  @Field(() => Int, { description: SEQUENCE })
  sequence!: number;

  @Field(() => ID)
  dagId!: string;

  @Field()
  runId!: string;

  @Field()
  taskId!: string;

  @Field(() => Int, { nullable: true, description: "Position among a mapped task's instances; −1 when unmapped (null on events written before map indexes)" })
  mapIndex!: number | null;

  @Field(() => TaskStateEnum)
  state!: string;

  @Field(() => TaskStateEnum, { nullable: true, description: 'Null when the task instance was created in this state' })
  previousState!: string | null;

  @Field(() => Int, { description: 'The attempt the state belongs to (0 before the first)' })
  tryNumber!: number;

  @Field(() => Int)
  maxTries!: number;

  @Field(() => DateTimeScalar, { nullable: true })
  startDate!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  endDate!: Date | null;

  @Field(() => DateTimeScalar, { description: 'When the change was written' })
  at!: Date;
}

@ObjectType({ description: 'A run of a DAG changed state (or was created)' })
export class DagRunStateEvent {
  @Field(() => Int, { description: SEQUENCE })
  sequence!: number;

  @Field(() => ID)
  dagId!: string;

  @Field()
  runId!: string;

  @Field(() => RunStateEnum)
  state!: string;

  @Field(() => RunStateEnum, { nullable: true, description: 'Null when the run was created' })
  previousState!: string | null;

  @Field(() => RunTypeEnum)
  runType!: string;

  @Field(() => DateTimeScalar)
  logicalDate!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  startDate!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  endDate!: Date | null;

  @Field(() => Int, { nullable: true })
  backfillId!: number | null;

  @Field(() => Int, { description: 'How many times the run was cleared' })
  clearNumber!: number;

  @Field(() => DateTimeScalar, { description: 'When the change was written' })
  at!: Date;
}

@ObjectType({ description: 'A snapshot of a backfill’s progress, sent whenever it changes' })
export class BackfillProgressEvent {
  @Field(() => Int, { description: SEQUENCE })
  sequence!: number;

  @Field(() => Int)
  backfillId!: number;

  @Field(() => ID)
  dagId!: string;

  @Field(() => Int, { description: 'Planned logical dates' })
  total!: number;

  @Field(() => Int, { description: 'Dates waiting for room under maxActiveRuns' })
  pending!: number;

  @Field(() => Int, { description: 'Dates with nothing to do' })
  skipped!: number;

  @Field(() => Int)
  queued!: number;

  @Field(() => Int)
  running!: number;

  @Field(() => Int)
  success!: number;

  @Field(() => Int)
  failed!: number;

  @Field()
  isPaused!: boolean;

  @Field(() => DateTimeScalar, { nullable: true })
  completedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  canceledAt!: Date | null;

  @Field(() => DateTimeScalar, { description: 'When the change was written' })
  at!: Date;
}

@ObjectType({ description: 'One log line of a task instance' })
export class TaskLogLine {
  @Field({ description: 'Increasing with every line appended; resume a tail after it with afterId' })
  id!: string;

  @Field(() => Int)
  tryNumber!: number;

  @Field()
  line!: string;

  @Field({ description: 'stdout, stderr, or weft for lines the service wrote (the log-cap marker)' })
  stream!: string;

  @Field(() => DateTimeScalar)
  at!: Date;
}

@ObjectType({ description: 'Log lines appended since the previous chunk, oldest first' })
export class TaskLogChunk {
  @Field(() => [TaskLogLine])
  lines!: TaskLogLine[];

  @Field({ description: 'The id of the last line: resubscribe with afterId = this to resume' })
  lastId!: string;
}
