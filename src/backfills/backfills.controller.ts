import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { parseInput } from '../common/validation.js';
import { CanOperate, CanRead } from '../access/roles.decorator.js';
import { BackfillsService } from './backfills.service.js';
import { backfillId, backfillListFilter, createBackfillInput } from './domain/backfill-inputs.js';
import { ApiContract } from '../openapi/contract.js';
import { backfill, backfillDryRun, backfillPage } from '../openapi/schemas/admin.js';

@ApiTags('backfills')
@CanOperate()
@Controller('api/v1/backfills')
export class BackfillsController {
  constructor(private readonly backfills: BackfillsService) {}

  @Post()
  @ApiOperation({ operationId: 'createBackfill', summary: 'Backfill a date range (dryRun lists what it would do)' })
  @ApiContract({ body: createBackfillInput, responses: { 200: backfillDryRun, 201: backfill }, errors: { 404: 'The DAG does not exist', 409: 'The DAG has an active backfill (pass allowConcurrent)' } })
  async create(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const result = await this.backfills.create(parseInput(createBackfillInput, body));
    void reply.status('dryRun' in result ? 200 : 201);
    return result;
  }

  @Get()
  @CanRead()
  @ApiOperation({ operationId: 'listBackfills', summary: 'Backfills, newest first' })
  @ApiContract({ query: backfillListFilter, responses: { 200: backfillPage } })
  list(@Query() query: unknown) {
    return this.backfills.list(parseInput(backfillListFilter, query));
  }

  @Get(':id')
  @CanRead()
  @ApiOperation({ operationId: 'getBackfill', summary: 'A backfill with its progress per state and per date' })
  @ApiContract({ params: { id: backfillId }, responses: { 200: backfill } })
  get(@Param('id') id: string) {
    return this.backfills.get(parseInput(backfillId, id, 'id'));
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ operationId: 'pauseBackfill', summary: 'Stop starting new dates' })
  @ApiContract({ params: { id: backfillId }, responses: { 200: backfill }, errors: { 409: 'The backfill has finished' } })
  pause(@Param('id') id: string) {
    return this.backfills.pause(parseInput(backfillId, id, 'id'), true);
  }

  @Post(':id/unpause')
  @HttpCode(200)
  @ApiOperation({ operationId: 'unpauseBackfill', summary: 'Resume starting dates' })
  @ApiContract({ params: { id: backfillId }, responses: { 200: backfill }, errors: { 409: 'The backfill has finished' } })
  unpause(@Param('id') id: string) {
    return this.backfills.pause(parseInput(backfillId, id, 'id'), false);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ operationId: 'cancelBackfill', summary: 'Start no more dates; runs already started finish on their own' })
  @ApiContract({ params: { id: backfillId }, responses: { 200: backfill }, errors: { 409: 'The backfill has finished' } })
  cancel(@Param('id') id: string) {
    return this.backfills.cancel(parseInput(backfillId, id, 'id'));
  }
}
