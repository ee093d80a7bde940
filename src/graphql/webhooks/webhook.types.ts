import { Field, Float, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { WebhookDeliveryStateEnum, WebhookEventKindEnum } from '../enums.js';
import { Paginated } from '../pagination.js';
import { DateTimeScalar } from '../scalars.js';

@ObjectType({ description: 'An outbound webhook for state changes (REST /api/v1/webhooks)' })
export class Webhook {
  @Field(() => Int)
  id!: number;

  @Field()
  url!: string;

  @Field(() => [WebhookEventKindEnum])
  eventKinds!: string[];

  @Field(() => [ID], { description: 'Only events of these DAGs; empty: every DAG' })
  dagIds!: string[];

  @Field(() => String, { nullable: true, description: '"***" when deliveries are signed with a stored secret' })
  secret!: string | null;

  @Field(() => String, { nullable: true, description: 'Deliveries are signed with WEFT_SECRET_<secretRef>' })
  secretRef!: string | null;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field()
  enabled!: boolean;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Every attempt since then has failed' })
  failingSince!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  disabledAt!: Date | null;

  @Field(() => String, { nullable: true })
  disabledReason!: string | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar)
  updatedAt!: Date;

  @Field(() => Int)
  pendingDeliveries!: number;

  @Field(() => DateTimeScalar, { nullable: true })
  lastDeliveredAt!: Date | null;
}

@ObjectType()
export class WebhookPage extends Paginated(Webhook) {}

@ObjectType({ description: 'One event sent (or to be sent) to a webhook' })
export class WebhookDelivery {
  @Field(() => ID)
  id!: string;

  @Field(() => Int)
  webhookId!: number;

  @Field()
  stream!: string;

  @Field(() => Float, { description: 'The event’s sequence number in its stream' })
  sequence!: number;

  @Field()
  kind!: string;

  @Field(() => ID)
  dagId!: string;

  @Field(() => String, { nullable: true })
  runId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The first delivery of this event, when this is a redelivery' })
  redeliveryOf!: string | null;

  @Field(() => WebhookDeliveryStateEnum)
  state!: string;

  @Field(() => Int)
  attempts!: number;

  @Field(() => DateTimeScalar)
  nextAttemptAt!: Date;

  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  deliveredAt!: Date | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}

@ObjectType()
export class WebhookDeliveryPage extends Paginated(WebhookDelivery) {}

@InputType()
export class CreateWebhookInput {
  @Field()
  url!: string;

  @Field(() => [WebhookEventKindEnum])
  eventKinds!: string[];

  @Field(() => [ID], { nullable: true })
  dagIds?: string[];

  @Field({ nullable: true, description: 'Signing secret (stored encrypted)' })
  secret?: string;

  @Field({ nullable: true, description: 'Instead of secret: sign with WEFT_SECRET_<secretRef>, read at delivery' })
  secretRef?: string;

  @Field({ nullable: true })
  description?: string;
}

@InputType({ description: 'Give the fields to change; enabled: true re-enables a disabled webhook' })
export class UpdateWebhookInput {
  @Field({ nullable: true })
  url?: string;

  @Field(() => [WebhookEventKindEnum], { nullable: true })
  eventKinds?: string[];

  @Field(() => [ID], { nullable: true })
  dagIds?: string[];

  @Field(() => String, { nullable: true, description: 'null removes the signature' })
  secret?: string | null;

  @Field(() => String, { nullable: true, description: 'null removes the signature' })
  secretRef?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field({ nullable: true })
  enabled?: boolean;
}

@InputType()
export class WebhookDeliveryFilter {
  @Field(() => WebhookDeliveryStateEnum, { nullable: true })
  state?: string;

  @Field({ nullable: true })
  stream?: string;
}
