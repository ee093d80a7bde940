import { Args, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AdminOnly } from '../../access/roles.decorator.js';
import { paginationSchema, parseInput } from '../../common/validation.js';
import { createWebhookInput, updateWebhookInput, webhookDeliveriesFilter, webhookDeliveryId, webhookId } from '../../webhooks/domain/webhook-inputs.js';
import { WebhooksService } from '../../webhooks/webhooks.service.js';
import { PageArgs } from '../pagination.js';
import { CreateWebhookInput, UpdateWebhookInput, Webhook, WebhookDelivery, WebhookDeliveryFilter, WebhookDeliveryPage, WebhookPage } from './webhook.types.js';

/** Webhooks, admins only: the same WebhooksService calls and input schemas as REST's /api/v1/webhooks. */
@Resolver(() => Webhook)
export class WebhooksResolver {
  constructor(private readonly webhooks: WebhooksService) {}

  @Query(() => WebhookPage, { nullable: true, name: 'webhooks', description: 'Webhooks for state changes' })
  @AdminOnly()
  webhookList(@Args() page: PageArgs) {
    const { limit, offset } = parseInput(paginationSchema, page);
    return this.webhooks.list(limit, offset);
  }

  @Query(() => Webhook, { nullable: true, description: 'One webhook' })
  @AdminOnly()
  webhook(@Args('id', { type: () => Int }) id: number) {
    return this.webhooks.get(parseInput(webhookId, id, 'id'));
  }

  @Query(() => WebhookDeliveryPage, { nullable: true, description: 'The delivery log of a webhook, newest first' })
  @AdminOnly()
  webhookDeliveries(
    @Args('webhookId', { type: () => Int }) id: number,
    @Args('filter', { type: () => WebhookDeliveryFilter, nullable: true }) filter: WebhookDeliveryFilter | null,
    @Args() page: PageArgs,
  ) {
    return this.webhooks.listDeliveries(parseInput(webhookId, id, 'webhookId'), parseInput(webhookDeliveriesFilter, { ...filter, ...page }));
  }

  @Mutation(() => Webhook, { description: 'Register a webhook for state changes' })
  @AdminOnly()
  createWebhook(@Args('input', { type: () => CreateWebhookInput }) input: CreateWebhookInput) {
    return this.webhooks.create(parseInput(createWebhookInput, input));
  }

  @Mutation(() => Webhook, { description: 'Change a webhook; enabled: true re-enables a disabled one and retries what waits' })
  @AdminOnly()
  updateWebhook(@Args('id', { type: () => Int }) id: number, @Args('input', { type: () => UpdateWebhookInput }) input: UpdateWebhookInput) {
    return this.webhooks.update(parseInput(webhookId, id, 'id'), parseInput(updateWebhookInput, input));
  }

  @Mutation(() => Boolean, { description: 'Delete a webhook and its delivery log; true when done' })
  @AdminOnly()
  async deleteWebhook(@Args('id', { type: () => Int }) id: number) {
    await this.webhooks.delete(parseInput(webhookId, id, 'id'));
    return true;
  }

  @Mutation(() => WebhookDelivery, { description: 'Send a delivery’s event again (same stream, sequence number and delivery id)' })
  @AdminOnly()
  redeliverWebhookDelivery(@Args('webhookId', { type: () => Int }) id: number, @Args('deliveryId', { type: () => ID }) deliveryId: string) {
    return this.webhooks.redeliver(parseInput(webhookId, id, 'webhookId'), parseInput(webhookDeliveryId, deliveryId, 'deliveryId'));
  }
}
