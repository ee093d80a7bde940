import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../openapi/contract.js';
import { principal } from '../openapi/schemas/admin.js';
import { ApiKeysService } from './api-keys.service.js';
import { Roles } from '../access/roles.decorator.js';

@ApiTags('apiKeys')
@Controller('api/v1/whoami')
export class WhoamiController {
  constructor(private readonly keys: ApiKeysService) {}

  @Get()
  @Roles('viewer', 'worker')
  @ApiOperation({ operationId: 'whoami', summary: 'The role and name of the key this request presents (any valid key may ask)' })
  @ApiContract({ responses: { 200: principal } })
  whoami() {
    return this.keys.whoami();
  }
}
