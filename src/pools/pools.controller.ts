import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { paginationSchema, parseInput } from '../common/validation.js';
import { CanOperate, CanRead } from '../auth/roles.decorator.js';
import { PoolsService } from './pools.service.js';
import { createPoolInput, updatePoolInput } from './domain/pool-inputs.js';

@ApiTags('pools')
@CanOperate()
@Controller('api/v1/pools')
export class PoolsController {
  constructor(private readonly pools: PoolsService) {}

  @Get()
  @CanRead()
  @ApiOperation({ operationId: 'listPools', summary: 'Pools with their occupancy (running, queued and open slots)' })
  list(@Query() query: unknown) {
    const { limit, offset } = parseInput(paginationSchema, query);
    return this.pools.list(limit, offset);
  }

  @Post()
  @ApiOperation({ operationId: 'createPool', summary: 'Create a pool' })
  create(@Body() body: unknown) {
    return this.pools.create(parseInput(createPoolInput, body));
  }

  @Get(':name')
  @CanRead()
  @ApiOperation({ operationId: 'getPool', summary: 'One pool with its occupancy' })
  get(@Param('name') name: string) {
    return this.pools.get(name);
  }

  @Patch(':name')
  @ApiOperation({ operationId: 'patchPool', summary: 'Change a pool’s slots or description' })
  patch(@Param('name') name: string, @Body() body: unknown) {
    return this.pools.update(name, parseInput(updatePoolInput, body));
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deletePool', summary: 'Delete an unused pool (default_pool cannot be deleted)' })
  async delete(@Param('name') name: string): Promise<void> {
    await this.pools.delete(name);
  }
}
