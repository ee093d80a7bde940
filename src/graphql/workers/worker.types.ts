import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { Paginated } from '../pagination.js';
import { DateTimeScalar } from '../scalars.js';

@ObjectType({ description: 'A lease a worker holds: which attempt, since when, until when' })
export class WorkerLease {
  @Field(() => ID)
  dagId!: string;

  @Field()
  runId!: string;

  @Field()
  taskId!: string;

  @Field(() => Int, { description: '-1 unless it is an instance of a mapped task' })
  mapIndex!: number;

  @Field(() => Int)
  tryNumber!: number;

  @Field()
  queue!: string;

  @Field(() => DateTimeScalar, { description: 'When the worker took the lease' })
  acquiredAt!: Date;

  @Field(() => DateTimeScalar, { description: 'Its last heartbeat' })
  heartbeatAt!: Date;

  @Field(() => DateTimeScalar, { description: 'Reaped (a failed attempt) at this time unless a heartbeat extends it' })
  expiresAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Hard execution timeout of the attempt; null = none' })
  deadlineAt!: Date | null;

  @Field({ description: 'A clear, mark or timeout asked the worker to stop the task' })
  cancelRequested!: boolean;
}

@ObjectType({ description: 'A worker seen on the lease API' })
export class Worker {
  @Field()
  workerId!: string;

  @Field(() => String, { nullable: true })
  hostname!: string | null;

  @Field(() => [String])
  queues!: string[];

  @Field(() => [String])
  taskTypes!: string[];

  @Field(() => Int)
  capacity!: number;

  @Field(() => DateTimeScalar)
  firstSeen!: Date;

  @Field(() => DateTimeScalar)
  lastSeen!: Date;

  @Field(() => Int, { description: 'Leases it holds now' })
  runningLeases!: number;

  @Field(() => [WorkerLease], { description: 'The task instances it holds now, oldest lease first' })
  leases!: WorkerLease[];
}

@ObjectType()
export class WorkerPage extends Paginated(Worker) {}
