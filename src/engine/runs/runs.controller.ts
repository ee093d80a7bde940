import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../common/validation.js';
import { RUN_STATES } from './domain/run-state.js';
import { clearTasksInput, markRunInput, markTaskInput, runListFilter, triggerRunInput } from './domain/run-inputs.js';
import { CanOperate, CanRead } from '../../access/roles.decorator.js';
import { RunControlService } from './run-control.service.js';
import { RunsService } from './runs.service.js';
import { ApiContract } from '../../openapi/contract.js';
import { clearResult, dagRun, dagRunPage, markTaskResult, patchTaskInstanceRequest, taskInstance, taskInstanceList } from '../../openapi/schemas/runs.js';

const listQuery = runListFilter.extend({
  state: z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(z.enum(RUN_STATES)))
    .optional(),
});

@ApiTags('dagRuns')
@CanOperate()
@Controller('api/v1/dags/:dagId')
export class RunControlController {
  constructor(private readonly control: RunControlService) {}

  @Post('clearTaskInstances')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'clearTaskInstances',
    summary: 'Reset task instances so they run again (dryRun defaults to true and lists what would be cleared)',
  })
  @ApiContract({ body: clearTasksInput, responses: { 200: clearResult } })
  clear(@Param('dagId') dagId: string, @Body() body: unknown) {
    return this.control.clear(dagId, parseInput(clearTasksInput, body));
  }

  @Patch('dagRuns/:runId/taskInstances/:taskId')
  @ApiOperation({ operationId: 'patchTaskInstance', summary: 'Mark a task instance (and optionally its up/downstream) success or failed' })
  @ApiContract({ body: patchTaskInstanceRequest, responses: { 200: markTaskResult }, errors: { 409: 'The transition is not allowed from the current state' } })
  mark(@Param('dagId') dagId: string, @Param('runId') runId: string, @Param('taskId') taskId: string, @Body() body: unknown) {
    return this.control.markTask(dagId, runId, taskId, parseInput(markTaskInput, body));
  }

  @Patch('dagRuns/:runId/taskInstances/:taskId/:mapIndex')
  @ApiOperation({ operationId: 'patchMappedTaskInstance', summary: 'Mark one mapped task instance (and optionally its up/downstream tasks) success or failed' })
  @ApiContract({ body: patchTaskInstanceRequest, responses: { 200: markTaskResult }, errors: { 409: 'The transition is not allowed from the current state' } })
  markMapped(
    @Param('dagId') dagId: string,
    @Param('runId') runId: string,
    @Param('taskId') taskId: string,
    @Param('mapIndex') mapIndex: string,
    @Body() body: unknown,
  ) {
    return this.control.markTask(dagId, runId, taskId, { ...parseInput(markTaskInput, body), mapIndex: Number(mapIndex) });
  }

  @Patch('dagRuns/:runId')
  @ApiOperation({ operationId: 'patchDagRun', summary: 'Mark a whole run success or failed' })
  @ApiContract({ body: markRunInput, responses: { 200: dagRun }, errors: { 409: 'The transition is not allowed from the current state' } })
  markRun(@Param('dagId') dagId: string, @Param('runId') runId: string, @Body() body: unknown) {
    return this.control.markRun(dagId, runId, parseInput(markRunInput, body).state);
  }
}

@ApiTags('dagRuns')
@CanRead()
@Controller('api/v1/dags/:dagId/dagRuns')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Post()
  @CanOperate()
  @ApiOperation({ operationId: 'triggerDagRun', summary: 'Trigger a run; the same runId again returns the existing run' })
  @ApiContract({ body: triggerRunInput, responses: { 200: dagRun, 201: dagRun }, errors: { 409: 'Another run has this logical date (`details.reason`: logical_date_taken)' } })
  async trigger(@Param('dagId') dagId: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const { run, created } = await this.runs.trigger(dagId, parseInput(triggerRunInput, body));
    void reply.status(created ? 201 : 200);
    return run;
  }

  @Get()
  @ApiOperation({ operationId: 'listDagRuns', summary: 'Runs of a DAG, newest logical date first' })
  @ApiContract({ query: listQuery, responses: { 200: dagRunPage } })
  list(@Param('dagId') dagId: string, @Query() query: unknown) {
    return this.runs.list({ dagId, ...parseInput(listQuery, query) });
  }

  @Get(':runId')
  @ApiOperation({ operationId: 'getDagRun', summary: 'One run' })
  @ApiContract({ responses: { 200: dagRun } })
  get(@Param('dagId') dagId: string, @Param('runId') runId: string) {
    return this.runs.get(dagId, runId);
  }

  @Get(':runId/taskInstances')
  @ApiOperation({ operationId: 'listTaskInstances', summary: 'Task instances of a run, with their tries' })
  @ApiContract({ responses: { 200: taskInstanceList } })
  async taskInstances(@Param('dagId') dagId: string, @Param('runId') runId: string) {
    const items = await this.runs.taskInstances(dagId, runId);
    return { items, totalEntries: items.length };
  }

  @Get(':runId/taskInstances/:taskId')
  @ApiOperation({ operationId: 'getTaskInstance', summary: 'One task instance with its tries' })
  @ApiContract({ responses: { 200: taskInstance } })
  taskInstance(@Param('dagId') dagId: string, @Param('runId') runId: string, @Param('taskId') taskId: string) {
    return this.runs.taskInstance(dagId, runId, taskId);
  }

  @Get(':runId/taskInstances/:taskId/:mapIndex')
  @ApiOperation({ operationId: 'getMappedTaskInstance', summary: 'One instance of a mapped task (by its map index) with its tries' })
  @ApiContract({ responses: { 200: taskInstance } })
  mappedTaskInstance(@Param('dagId') dagId: string, @Param('runId') runId: string, @Param('taskId') taskId: string, @Param('mapIndex') mapIndex: string) {
    return this.runs.taskInstance(dagId, runId, taskId, Number(mapIndex));
  }
}
