import { Field, InputType, Int, ObjectType } from '@nestjs/graphql';
import { Paginated } from '../pagination.js';

@ObjectType({ description: 'A cap on concurrently running tasks across all DAGs, with its occupancy' })
export class Pool {
  @Field()
  name!: string;

  @Field(() => Int)
  slots!: number;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => Int, { description: 'Slots held by running tasks' })
  runningSlots!: number;

  @Field(() => Int, { description: 'Slots asked for by queued tasks' })
  queuedSlots!: number;

  @Field(() => Int)
  openSlots!: number;
}

@ObjectType()
export class PoolPage extends Paginated(Pool) {}

@InputType()
export class CreatePoolInput {
  @Field()
  name!: string;

  @Field(() => Int)
  slots!: number;

  @Field({ nullable: true })
  description?: string;
}

@InputType({ description: 'Give slots, description or both' })
export class UpdatePoolInput {
  @Field(() => Int, { nullable: true })
  slots?: number;

  @Field(() => String, { nullable: true, description: 'null clears it' })
  description?: string | null;
}
