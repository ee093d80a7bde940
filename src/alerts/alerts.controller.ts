import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { paginationSchema, parseInput } from '../common/validation.js';
import { idSchema } from '../dags/domain/dag-document.schema.js';
import { CanRead } from '../access/roles.decorator.js';
import { AlertsService } from './alerts.service.js';
import { slaMissFilter } from './domain/alert-inputs.js';
import { ApiContract } from '../openapi/contract.js';
import { alertDeliveryPage, slaMissPage, slaWarningPage } from '../openapi/schemas/admin.js';

const deliveriesQuery = paginationSchema.extend({
  dagId: idSchema.optional(),
  kind: z.enum(['sla_miss', 'sla_warning', 'task_failed', 'run_failed']).optional(),
  state: z.enum(['pending', 'delivered', 'failed']).optional(),
});

@ApiTags('alerts')
@CanRead()
@Controller('api/v1')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get('slaMisses')
  @ApiOperation({ operationId: 'listSlaMisses', summary: 'SLA misses (one per task instance) with their alert deliveries' })
  @ApiContract({ query: slaMissFilter, responses: { 200: slaMissPage } })
  slaMisses(@Query() query: unknown) {
    return this.alerts.listSlaMisses(parseInput(slaMissFilter, query));
  }

  @Get('slaWarnings')
  @ApiOperation({ operationId: 'listSlaWarnings', summary: 'SLA early warnings (one per task instance) with their alert deliveries' })
  @ApiContract({ query: slaMissFilter, responses: { 200: slaWarningPage } })
  slaWarnings(@Query() query: unknown) {
    return this.alerts.listSlaWarnings(parseInput(slaMissFilter, query));
  }

  @Get('alertDeliveries')
  @ApiOperation({ operationId: 'listAlertDeliveries', summary: 'Alert deliveries (SLA misses, failures) and their outcome' })
  @ApiContract({ query: deliveriesQuery, responses: { 200: alertDeliveryPage } })
  deliveries(@Query() query: unknown) {
    return this.alerts.listDeliveries(parseInput(deliveriesQuery, query));
  }
}
