import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { Paginated } from '../pagination.js';
import { DateTimeScalar } from '../scalars.js';

@ObjectType({ description: 'Delivery of an alert to one of the DAG’s callbacks' })
export class AlertDeliveryStatus {
  @Field()
  channel!: string;

  @Field({ description: 'pending, delivered or failed' })
  state!: string;

  @Field(() => Int)
  attempts!: number;

  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  deliveredAt!: Date | null;
}

@ObjectType({ description: 'A task instance that missed its SLA (recorded once per task instance)' })
export class SlaMiss {
  @Field(() => Int)
  id!: number;

  @Field(() => ID)
  dagId!: string;

  @Field()
  runId!: string;

  @Field()
  taskId!: string;

  @Field(() => DateTimeScalar)
  logicalDate!: Date;

  @Field(() => DateTimeScalar)
  deadline!: Date;

  @Field(() => DateTimeScalar)
  detectedAt!: Date;

  @Field(() => [AlertDeliveryStatus])
  deliveries!: AlertDeliveryStatus[];
}

@ObjectType()
export class SlaMissPage extends Paginated(SlaMiss) {}

@InputType()
export class SlaMissFilter {
  @Field(() => ID, { nullable: true })
  dagId?: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Misses detected at or after this' })
  since?: string;
}
