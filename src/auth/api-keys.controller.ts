import { Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { paginationSchema, parseInput } from '../common/validation.js';
import { ApiKeysService } from './api-keys.service.js';
import { apiKeyId, createApiKeyInput } from './domain/api-key-inputs.js';
import { AdminOnly } from '../access/roles.decorator.js';
import { ApiContract } from '../openapi/contract.js';
import { apiKey, apiKeyPage, createdApiKey } from '../openapi/schemas/admin.js';

@ApiTags('apiKeys')
@AdminOnly()
@Controller('api/v1/apiKeys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({ operationId: 'createApiKey', summary: 'Create a key; the key itself is in this answer only' })
  @ApiContract({ body: createApiKeyInput, responses: { 201: createdApiKey } })
  create(@Body() body: unknown) {
    return this.keys.create(parseInput(createApiKeyInput, body));
  }

  @Get()
  @ApiOperation({ operationId: 'listApiKeys', summary: 'Keys (never the key itself) with role, scope and last use' })
  @ApiContract({ query: paginationSchema, responses: { 200: apiKeyPage } })
  list(@Query() query: unknown) {
    const { limit, offset } = parseInput(paginationSchema, query);
    return this.keys.list(limit, offset);
  }

  @Delete(':id')
  @ApiOperation({ operationId: 'revokeApiKey', summary: 'Revoke a key (it stops working at once)' })
  @ApiContract({ params: { id: apiKeyId }, responses: { 200: apiKey } })
  revoke(@Param('id') id: string) {
    return this.keys.revoke(parseInput(apiKeyId, id, 'id'));
  }
}
