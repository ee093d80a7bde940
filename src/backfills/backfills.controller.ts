import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { paginationSchema, parseInput } from '../common/validation.js';
import { idSchema } from '../dags/domain/dag-document.schema.js';
import { BackfillsService } from './backfills.service.js';

const isoDate = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with offset' }).transform((s) => new Date(s));
const createBody = z.strictObject({
  dagId: idSchema,
  fromDate: isoDate,
  toDate: isoDate,
  maxActiveRuns: z.int().min(1).max(1000).default(10),
  reprocessBehavior: z.enum(['none', 'failed', 'completed']).default('none'),
  runBackwards: z.boolean().default(false),
  conf: z.record(z.string(), z.json()).default({}),
  dryRun: z.boolean().default(false),
  allowConcurrent: z.boolean().default(false),
});
const idParam = z.coerce.number().int().min(1);
const listQuery = paginationSchema.extend({ dagId: idSchema.optional() });

@ApiTags('backfills')
@Controller('api/v1/backfills')
export class BackfillsController {
  constructor(private readonly backfills: BackfillsService) {}

  @Post()
  @ApiOperation({ operationId: 'createBackfill', summary: 'Backfill a date range (dryRun lists what it would do)' })
  async create(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const result = await this.backfills.create(parseInput(createBody, body));
    void reply.status('dryRun' in result ? 200 : 201);
    return result;
  }

  @Get()
  @ApiOperation({ operationId: 'listBackfills', summary: 'Backfills, newest first' })
  list(@Query() query: unknown) {
    return this.backfills.list(parseInput(listQuery, query));
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getBackfill', summary: 'A backfill with its progress per state and per date' })
  get(@Param('id') id: string) {
    return this.backfills.get(parseInput(idParam, id, 'id'));
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ operationId: 'pauseBackfill', summary: 'Stop starting new dates' })
  pause(@Param('id') id: string) {
    return this.backfills.pause(parseInput(idParam, id, 'id'), true);
  }

  @Post(':id/unpause')
  @HttpCode(200)
  @ApiOperation({ operationId: 'unpauseBackfill', summary: 'Resume starting dates' })
  unpause(@Param('id') id: string) {
    return this.backfills.pause(parseInput(idParam, id, 'id'), false);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ operationId: 'cancelBackfill', summary: 'Start no more dates; runs already started finish on their own' })
  cancel(@Param('id') id: string) {
    return this.backfills.cancel(parseInput(idParam, id, 'id'));
  }
}
