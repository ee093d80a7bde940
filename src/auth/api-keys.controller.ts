import { Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { paginationSchema, parseInput } from '../common/validation.js';
import { idSchema } from '../dags/domain/dag-document.schema.js';
import { ApiKeysService } from './api-keys.service.js';
import { AdminOnly } from './roles.decorator.js';

const createBody = z.strictObject({
  name: z.string().min(1).max(200),
  role: z.enum(['admin', 'operator', 'viewer', 'worker']),
  queues: z.array(idSchema).max(100).optional(),
  taskTypes: z.array(idSchema).max(100).optional(),
});

@ApiTags('apiKeys')
@AdminOnly()
@Controller('api/v1/apiKeys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({ operationId: 'createApiKey', summary: 'Create a key; the key itself is in this answer only' })
  create(@Body() body: unknown) {
    return this.keys.create(parseInput(createBody, body));
  }

  @Get()
  @ApiOperation({ operationId: 'listApiKeys', summary: 'Keys (never the key itself) with role, scope and last use' })
  list(@Query() query: unknown) {
    const { limit, offset } = parseInput(paginationSchema, query);
    return this.keys.list(limit, offset);
  }

  @Delete(':id')
  @ApiOperation({ operationId: 'revokeApiKey', summary: 'Revoke a key (it stops working at once)' })
  revoke(@Param('id') id: string) {
    return this.keys.revoke(parseInput(z.uuid({ error: 'must be a key id (UUID)' }), id, 'id'));
  }
}
