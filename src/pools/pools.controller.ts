import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { paginationSchema, parseInput } from '../common/validation.js';
import { CanOperate, CanRead } from '../access/roles.decorator.js';
import { PoolsService } from './pools.service.js';
import { createPoolInput, updatePoolInput } from './domain/pool-inputs.js';
import { ApiContract } from '../openapi/contract.js';
import { pool, poolPage } from '../openapi/schemas/admin.js';

@ApiTags('pools')
@CanOperate()
@Controller('api/v1/pools')
export class PoolsController {
  constructor(private readonly pools: PoolsService) {}

  @Get()
  @CanRead()
  @ApiOperation({ operationId: 'listPools', summary: 'Pools with their occupancy (running, queued and open slots)' })
  @ApiContract({ query: paginationSchema, responses: { 200: poolPage } })
  list(@Query() query: unknown) {
    const { limit, offset } = parseInput(paginationSchema, query);
    return this.pools.list(limit, offset);
  }

  @Post()
  @ApiOperation({ operationId: 'createPool', summary: 'Create a pool' })
  @ApiContract({ body: createPoolInput, responses: { 201: pool }, errors: { 409: 'A pool of this name exists' } })
  create(@Body() body: unknown) {
    return this.pools.create(parseInput(createPoolInput, body));
  }

  @Get(':name')
  @CanRead()
  @ApiOperation({ operationId: 'getPool', summary: 'One pool with its occupancy' })
  @ApiContract({ responses: { 200: pool } })
  get(@Param('name') name: string) {
    return this.pools.get(name);
  }

  @Patch(':name')
  @ApiOperation({ operationId: 'patchPool', summary: 'Change a pool’s slots or description' })
  @ApiContract({ body: updatePoolInput, responses: { 200: pool } })
  patch(@Param('name') name: string, @Body() body: unknown) {
    return this.pools.update(name, parseInput(updatePoolInput, body));
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deletePool', summary: 'Delete an unused pool (default_pool cannot be deleted)' })
  @ApiContract({ responses: { 204: null }, errors: { 409: 'The pool is in use or is default_pool' } })
  async delete(@Param('name') name: string): Promise<void> {
    await this.pools.delete(name);
  }
}
