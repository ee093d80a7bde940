import { Field, Float, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
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

@ObjectType({ description: 'A running attempt that passed its fraction of the p95 runtime (recorded once per task instance)' })
export class SlaWarning {
  @Field(() => Int)
  id!: number;

  @Field(() => ID)
  dagId!: string;

  @Field()
  runId!: string;

  @Field()
  taskId!: string;

  @Field(() => Int)
  tryNumber!: number;

  @Field(() => DateTimeScalar)
  logicalDate!: Date;

  @Field(() => DateTimeScalar, { description: 'When the attempt started' })
  startedAt!: Date;

  @Field(() => Float, { description: 'How long it had run when the warning was raised' })
  elapsedSec!: number;

  @Field(() => Float, { description: 'The p95 duration of the task’s last successful attempts' })
  p95Sec!: number;

  @Field(() => Float)
  p95Fraction!: number;

  @Field(() => Int, { description: 'How many successful attempts the p95 was taken over' })
  samples!: number;

  @Field(() => DateTimeScalar)
  detectedAt!: Date;

  @Field(() => [AlertDeliveryStatus])
  deliveries!: AlertDeliveryStatus[];
}

@ObjectType()
export class SlaWarningPage extends Paginated(SlaWarning) {}

@InputType()
export class SlaMissFilter {
  @Field(() => ID, { nullable: true })
  dagId?: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Misses detected at or after this' })
  since?: string;
}
