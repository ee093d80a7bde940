import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { paginationSchema, parseInput } from '../common/validation.js';
import { RUN_STATES } from './domain/run-state.js';
import { RunsService } from './runs.service.js';

const isoDate = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with offset' }).transform((s) => new Date(s));
const triggerBody = z.strictObject({
  logicalDate: isoDate.optional(),
  conf: z.record(z.string(), z.json()).optional(),
  runId: z.string().min(1).max(250).optional(),
});
const listQuery = paginationSchema.extend({
  state: z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(z.enum(RUN_STATES)))
    .optional(),
  logicalDateGte: isoDate.optional(),
  logicalDateLte: isoDate.optional(),
  runType: z.enum(['scheduled', 'manual', 'backfill', 'dataset_triggered']).optional(),
});

@ApiTags('dagRuns')
@Controller('api/v1/dags/:dagId/dagRuns')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Post()
  @ApiOperation({ operationId: 'triggerDagRun', summary: 'Trigger a run; the same runId again returns the existing run' })
  async trigger(@Param('dagId') dagId: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const { run, created } = await this.runs.trigger(dagId, parseInput(triggerBody, body));
    void reply.status(created ? 201 : 200);
    return run;
  }

  @Get()
  @ApiOperation({ operationId: 'listDagRuns', summary: 'Runs of a DAG, newest logical date first' })
  list(@Param('dagId') dagId: string, @Query() query: unknown) {
    return this.runs.list({ dagId, ...parseInput(listQuery, query) });
  }

  @Get(':runId')
  @ApiOperation({ operationId: 'getDagRun', summary: 'One run' })
  get(@Param('dagId') dagId: string, @Param('runId') runId: string) {
    return this.runs.get(dagId, runId);
  }

  @Get(':runId/taskInstances')
  @ApiOperation({ operationId: 'listTaskInstances', summary: 'Task instances of a run, with their tries' })
  async taskInstances(@Param('dagId') dagId: string, @Param('runId') runId: string) {
    const items = await this.runs.taskInstances(dagId, runId);
    return { items, totalEntries: items.length };
  }

  @Get(':runId/taskInstances/:taskId')
  @ApiOperation({ operationId: 'getTaskInstance', summary: 'One task instance with its tries' })
  taskInstance(@Param('dagId') dagId: string, @Param('runId') runId: string, @Param('taskId') taskId: string) {
    return this.runs.taskInstance(dagId, runId, taskId);
  }
}
