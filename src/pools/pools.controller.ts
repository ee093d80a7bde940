import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { idSchema } from '../dags/domain/dag-document.schema.js';
import { paginationSchema, parseInput } from '../common/validation.js';
import { PoolsService } from './pools.service.js';

const slots = z.int().min(0).max(1_000_000);
const createBody = z.strictObject({ name: idSchema, slots, description: z.string().max(1000).optional() });
const patchBody = z
  .strictObject({ slots: slots.optional(), description: z.string().max(1000).nullable().optional() })
  .refine((b) => b.slots !== undefined || b.description !== undefined, { error: 'give slots or description' });

@ApiTags('pools')
@Controller('api/v1/pools')
export class PoolsController {
  constructor(private readonly pools: PoolsService) {}

  @Get()
  @ApiOperation({ operationId: 'listPools', summary: 'Pools with their occupancy (running, queued and open slots)' })
  list(@Query() query: unknown) {
    const { limit, offset } = parseInput(paginationSchema, query);
    return this.pools.list(limit, offset);
  }

  @Post()
  @ApiOperation({ operationId: 'createPool', summary: 'Create a pool' })
  create(@Body() body: unknown) {
    return this.pools.create(parseInput(createBody, body));
  }

  @Get(':name')
  @ApiOperation({ operationId: 'getPool', summary: 'One pool with its occupancy' })
  get(@Param('name') name: string) {
    return this.pools.get(name);
  }

  @Patch(':name')
  @ApiOperation({ operationId: 'patchPool', summary: 'Change a pool’s slots or description' })
  patch(@Param('name') name: string, @Body() body: unknown) {
    return this.pools.update(name, parseInput(patchBody, body));
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deletePool', summary: 'Delete an unused pool (default_pool cannot be deleted)' })
  async delete(@Param('name') name: string): Promise<void> {
    await this.pools.delete(name);
  }
}
