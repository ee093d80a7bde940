import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { paginationSchema, parseInput } from '../common/validation.js';
import { AdminOnly } from '../access/roles.decorator.js';
import { AuditService } from './audit.service.js';
import { ApiContract } from '../openapi/contract.js';
import { auditPage } from '../openapi/schemas/admin.js';

const query = paginationSchema.extend({ action: z.string().min(1).optional(), target: z.string().min(1).optional() });

@ApiTags('audit')
@AdminOnly()
@Controller('api/v1/auditLog')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ operationId: 'listAuditLog', summary: 'Administrative changes, newest first' })
  @ApiContract({ query, responses: { 200: auditPage } })
  list(@Query() q: unknown) {
    return this.audit.list(parseInput(query, q));
  }
}
