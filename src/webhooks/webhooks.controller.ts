import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../access/roles.decorator.js';
import { paginationSchema, parseInput } from '../common/validation.js';
import { ApiContract } from '../openapi/contract.js';
import { webhook, webhookDelivery, webhookDeliveryPage, webhookPage } from '../openapi/schemas/webhooks.js';
import { createWebhookInput, updateWebhookInput, webhookDeliveriesFilter, webhookDeliveryId, webhookId } from './domain/webhook-inputs.js';
import { WebhooksService } from './webhooks.service.js';

const params = { id: webhookId, deliveryId: webhookDeliveryId };

/** Admin only: a webhook sends every state change it matches to its URL. */
@ApiTags('webhooks')
@AdminOnly()
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({ operationId: 'createWebhook', summary: 'Register a webhook for state changes (URL, event kinds, optional DAG filter, secret or secretRef)' })
  @ApiContract({ body: createWebhookInput, responses: { 201: webhook } })
  create(@Body() body: unknown) {
    return this.webhooks.create(parseInput(createWebhookInput, body));
  }

  @Get()
  @ApiOperation({ operationId: 'listWebhooks', summary: 'Webhooks (secrets shown as "***")' })
  @ApiContract({ query: paginationSchema, responses: { 200: webhookPage } })
  list(@Query() query: unknown) {
    const { limit, offset } = parseInput(paginationSchema, query);
    return this.webhooks.list(limit, offset);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getWebhook', summary: 'One webhook' })
  @ApiContract({ params, responses: { 200: webhook } })
  get(@Param('id') id: string) {
    return this.webhooks.get(parseInput(webhookId, id, 'id'));
  }

  @Patch(':id')
  @ApiOperation({ operationId: 'patchWebhook', summary: 'Change a webhook; {"enabled": true} re-enables a disabled one and retries what waits' })
  @ApiContract({ params, body: updateWebhookInput, responses: { 200: webhook } })
  patch(@Param('id') id: string, @Body() body: unknown) {
    return this.webhooks.update(parseInput(webhookId, id, 'id'), parseInput(updateWebhookInput, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteWebhook', summary: 'Delete a webhook and its delivery log' })
  @ApiContract({ params, responses: { 204: null } })
  async delete(@Param('id') id: string): Promise<void> {
    await this.webhooks.delete(parseInput(webhookId, id, 'id'));
  }

  @Get(':id/deliveries')
  @ApiOperation({ operationId: 'listWebhookDeliveries', summary: 'The delivery log of a webhook, newest first' })
  @ApiContract({ params, query: webhookDeliveriesFilter, responses: { 200: webhookDeliveryPage } })
  deliveries(@Param('id') id: string, @Query() query: unknown) {
    return this.webhooks.listDeliveries(parseInput(webhookId, id, 'id'), parseInput(webhookDeliveriesFilter, query));
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @ApiOperation({ operationId: 'redeliverWebhookDelivery', summary: 'Send a delivery’s event again (same stream, sequence number and delivery id)' })
  @ApiContract({ params, responses: { 201: webhookDelivery } })
  redeliver(@Param('id') id: string, @Param('deliveryId') deliveryId: string) {
    return this.webhooks.redeliver(parseInput(webhookId, id, 'id'), parseInput(webhookDeliveryId, deliveryId, 'deliveryId'));
  }
}
