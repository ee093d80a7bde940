import { Field, Int, ObjectType } from '@nestjs/graphql';
import { Paginated } from '../pagination.js';
import { DateTimeScalar } from '../scalars.js';

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
}

@ObjectType()
export class WorkerPage extends Paginated(Worker) {}
