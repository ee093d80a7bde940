import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { idSchema } from '../../dags/domain/dag-document.schema.js';
import { isOnlyDots, ONLY_DOTS_MESSAGE } from '../../common/ids.js';
import { INT32_MAX, paginationSchema, parseInput, wholeNumber } from '../../common/validation.js';
import { CanOperate, CanRead, WorkerApi } from '../../access/roles.decorator.js';
import { LeasesService } from './leases.service.js';
import { TaskDataService } from './task-data.service.js';
import { TaskRenderer } from './task-renderer.service.js';
import { xcomKey, xcomValueInput } from './domain/xcom-inputs.js';
import { ApiContract } from '../../openapi/contract.js';
import { completeResult, heartbeatResult, leaseBatch, logLinePage, renderedTask, setXcomEntryRequest, workerPage, xcomEntry, xcomEntryList } from '../../openapi/schemas/leases.js';

const leaseBody = z.strictObject({
  queues: z.array(idSchema).min(1).max(100),
  capacity: z.int().min(1).max(100).default(1),
  waitSeconds: z.number().min(0).max(30).default(0),
  taskTypes: z.array(idSchema).max(100).optional(),
  hostname: z.string().max(255).optional(),
});
const completeBody = z.strictObject({
  status: z.enum(['success', 'failed']),
  xcom: z
    .record(z.string().min(1).max(250), z.json())
    .superRefine((xcom, ctx) => {
      // The keys are XCom keys (xcomKey): said here, per key, since zod's own answer is only "Invalid key in record".
      for (const key of Object.keys(xcom)) if (isOnlyDots(key)) ctx.addIssue({ code: 'custom', path: [key], message: ONLY_DOTS_MESSAGE });
    })
    .optional(),
  error: z.string().max(65_536).optional(),
  retryable: z.boolean().optional(),
  /** A branch task's choice: the direct downstream task ids to follow (else its return_value XCom decides). */
  followTaskIds: z.array(idSchema).max(1000).optional(),
  /** Complete-and-lease-next: the worker's next leases come back in the same response. */
  next: leaseBody.partial({ queues: true }).optional(),
});
const logLine = z.union([z.string(), z.strictObject({ line: z.string(), stream: z.enum(['stdout', 'stderr']).default('stdout') })]);
const logsBody = z.strictObject({ lines: z.array(logLine).min(1).max(10_000) });
const logsQuery = paginationSchema.extend({ tryNumber: wholeNumber(1, INT32_MAX).optional(), limit: wholeNumber(1, 10_000, 1000) });
const leaseId = z.uuid({ error: 'must be a lease id (UUID)' });

@ApiTags('leases')
@Controller('api/v1')
export class LeasesController {
  constructor(
    private readonly leases: LeasesService,
    private readonly data: TaskDataService,
    private readonly renderer: TaskRenderer,
  ) {}

  @Post('workers/:workerId/lease')
  @WorkerApi()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'leaseTasks',
    summary: 'Long-poll for up to `capacity` tasks; answers at once when one is eligible, or empty after waitSeconds',
  })
  @ApiContract({ body: leaseBody, responses: { 200: leaseBatch } })
  async lease(@Param('workerId') workerId: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const req = parseInput(leaseBody, body);
    parseInput(idSchema, workerId, 'workerId');
    // A client that hangs up ends its wait (and nothing is claimed for it afterwards).
    const gone = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    return { leases: await this.leases.lease(workerId, req, gone.signal) };
  }

  @Post('leases/:leaseId/heartbeat')
  @WorkerApi()
  @HttpCode(200)
  @ApiOperation({ operationId: 'heartbeatLease', summary: 'Extend a lease; 409 when it is no longer the live attempt' })
  @ApiContract({ responses: { 200: heartbeatResult }, errors: { 409: 'The lease is no longer the live attempt (`details.reason`: lease_lost): stop the task' } })
  heartbeat(@Param('leaseId') id: string) {
    return this.leases.heartbeat(parseInput(leaseId, id, 'leaseId'));
  }

  @Post('leases/:leaseId/complete')
  @WorkerApi()
  @HttpCode(200)
  @ApiOperation({ operationId: 'completeLease', summary: 'Report the outcome of the attempt; idempotent for the same payload' })
  @ApiContract({ body: completeBody, responses: { 200: completeResult }, errors: { 409: 'Stale attempt (`details.reason`: lease_lost, already_completed): the result is discarded' } })
  complete(@Param('leaseId') id: string, @Body() body: unknown) {
    const { next, ...outcome } = this.data.checkXcom(parseInput(completeBody, body));
    return this.leases.completeAndLeaseNext(parseInput(leaseId, id, 'leaseId'), outcome, next);
  }

  @Post('leases/:leaseId/logs')
  @WorkerApi()
  @HttpCode(204)
  @ApiOperation({ operationId: 'appendLeaseLogs', summary: 'Append log lines to the attempt' })
  @ApiContract({ body: logsBody, responses: { 204: null }, errors: { 409: 'The lease is no longer the live attempt' } })
  async logs(@Param('leaseId') id: string, @Body() body: unknown): Promise<void> {
    const { lines } = parseInput(logsBody, body);
    await this.leases.appendLogs(
      parseInput(leaseId, id, 'leaseId'),
      lines.map((l) => (typeof l === 'string' ? { line: l, stream: 'stdout' } : l)),
    );
  }

  @Get('workers')
  @CanRead()
  @ApiOperation({ operationId: 'listWorkers', summary: 'Workers seen by the lease API, with their running leases' })
  @ApiContract({ query: paginationSchema, responses: { 200: workerPage } })
  workers(@Query() query: unknown) {
    const { limit, offset } = parseInput(paginationSchema, query);
    return this.data.workers(limit, offset);
  }

  @Get('dags/:dagId/dagRuns/:runId/taskInstances/:taskId/logs')
  @CanRead()
  @ApiOperation({ operationId: 'getTaskLogs', summary: 'Log lines of a task instance, all tries (or ?tryNumber=n)' })
  @ApiContract({ query: logsQuery, responses: { 200: logLinePage } })
  taskLogs(@Param('dagId') dagId: string, @Param('runId') runId: string, @Param('taskId') taskId: string, @Query() query: unknown) {
    return this.data.logs(dagId, runId, taskId, parseInput(logsQuery, query));
  }

  @Get('dags/:dagId/dagRuns/:runId/taskInstances/:taskId/tries/:tryNumber/logs')
  @CanRead()
  @ApiOperation({ operationId: 'getTaskTryLogs', summary: 'Log lines of one try of a task instance' })
  @ApiContract({ query: logsQuery.omit({ tryNumber: true }), responses: { 200: logLinePage } })
  taskTryLogs(
    @Param('dagId') dagId: string,
    @Param('runId') runId: string,
    @Param('taskId') taskId: string,
    @Param('tryNumber') tryNumber: string,
    @Query() query: unknown,
  ) {
    return this.data.logs(dagId, runId, taskId, parseInput(logsQuery, { ...(query as object), tryNumber }));
  }

  @Get('dags/:dagId/dagRuns/:runId/taskInstances/:taskId/rendered')
  @CanRead()
  @ApiOperation({
    operationId: 'getRenderedTask',
    summary: 'The task\'s work fields rendered with its run\'s context (what its lease carries); a template error is answered in `error`',
  })
  @ApiContract({ responses: { 200: renderedTask } })
  rendered(@Param('dagId') dagId: string, @Param('runId') runId: string, @Param('taskId') taskId: string) {
    return this.renderer.renderTaskInstance(dagId, runId, taskId);
  }

  @Get('dags/:dagId/dagRuns/:runId/taskInstances/:taskId/xcomEntries')
  @CanRead()
  @ApiOperation({ operationId: 'listXcomEntries', summary: 'XCom values published by a task instance' })
  @ApiContract({ responses: { 200: xcomEntryList } })
  xcoms(@Param('dagId') dagId: string, @Param('runId') runId: string, @Param('taskId') taskId: string) {
    return this.data.xcoms(dagId, runId, taskId);
  }

  @Put('dags/:dagId/dagRuns/:runId/taskInstances/:taskId/xcomEntries/:key')
  @CanOperate()
  @ApiOperation({ operationId: 'setXcomEntry', summary: 'Set one XCom value of a task instance (operators fixing data by hand)' })
  @ApiContract({ body: setXcomEntryRequest, responses: { 200: xcomEntry } })
  setXcom(
    @Param('dagId') dagId: string,
    @Param('runId') runId: string,
    @Param('taskId') taskId: string,
    @Param('key') key: string,
    @Body() body: unknown,
  ) {
    const { value } = this.data.checkXcomValue(parseInput(xcomValueInput, body));
    return this.data.setXcom(dagId, runId, taskId, parseInput(xcomKey, key, 'key'), value);
  }

  @Get('dags/:dagId/dagRuns/:runId/taskInstances/:taskId/xcomEntries/:key')
  @CanRead()
  @ApiOperation({ operationId: 'getXcomEntry', summary: 'One XCom value' })
  @ApiContract({ responses: { 200: xcomEntry } })
  xcom(@Param('dagId') dagId: string, @Param('runId') runId: string, @Param('taskId') taskId: string, @Param('key') key: string) {
    return this.data.xcom(dagId, runId, taskId, key);
  }

  @Get('dags/:dagId/dagRuns/:runId/taskInstances/:taskId/:mapIndex/logs')
  @CanRead()
  @ApiOperation({ operationId: 'getMappedTaskLogs', summary: 'Log lines of one mapped task instance, all tries (or ?tryNumber=n)' })
  @ApiContract({ query: logsQuery, responses: { 200: logLinePage } })
  mappedTaskLogs(
    @Param('dagId') dagId: string,
    @Param('runId') runId: string,
    @Param('taskId') taskId: string,
    @Param('mapIndex') mapIndex: string,
    @Query() query: unknown,
  ) {
    return this.data.logs(dagId, runId, taskId, parseInput(logsQuery, query), Number(mapIndex));
  }

  @Get('dags/:dagId/dagRuns/:runId/taskInstances/:taskId/:mapIndex/rendered')
  @CanRead()
  @ApiOperation({ operationId: 'getMappedRenderedTask', summary: 'One mapped task instance rendered with its run\'s context and its expand values (what its lease carries)' })
  @ApiContract({ responses: { 200: renderedTask } })
  mappedRendered(@Param('dagId') dagId: string, @Param('runId') runId: string, @Param('taskId') taskId: string, @Param('mapIndex') mapIndex: string) {
    return this.renderer.renderTaskInstance(dagId, runId, taskId, Number(mapIndex));
  }

  @Get('dags/:dagId/dagRuns/:runId/taskInstances/:taskId/:mapIndex/xcomEntries')
  @CanRead()
  @ApiOperation({ operationId: 'listMappedXcomEntries', summary: 'XCom values published by one mapped task instance' })
  @ApiContract({ responses: { 200: xcomEntryList } })
  mappedXcoms(@Param('dagId') dagId: string, @Param('runId') runId: string, @Param('taskId') taskId: string, @Param('mapIndex') mapIndex: string) {
    return this.data.xcoms(dagId, runId, taskId, Number(mapIndex));
  }

  @Put('dags/:dagId/dagRuns/:runId/taskInstances/:taskId/:mapIndex/xcomEntries/:key')
  @CanOperate()
  @ApiOperation({ operationId: 'setMappedXcomEntry', summary: 'Set one XCom value of one mapped task instance (operators fixing data by hand)' })
  @ApiContract({ body: setXcomEntryRequest, responses: { 200: xcomEntry } })
  setMappedXcom(
    @Param('dagId') dagId: string,
    @Param('runId') runId: string,
    @Param('taskId') taskId: string,
    @Param('mapIndex') mapIndex: string,
    @Param('key') key: string,
    @Body() body: unknown,
  ) {
    const { value } = this.data.checkXcomValue(parseInput(xcomValueInput, body));
    return this.data.setXcom(dagId, runId, taskId, parseInput(xcomKey, key, 'key'), value, Number(mapIndex));
  }

  @Get('dags/:dagId/dagRuns/:runId/taskInstances/:taskId/:mapIndex/xcomEntries/:key')
  @CanRead()
  @ApiOperation({ operationId: 'getMappedXcomEntry', summary: 'One XCom value of one mapped task instance' })
  @ApiContract({ responses: { 200: xcomEntry } })
  mappedXcom(
    @Param('dagId') dagId: string,
    @Param('runId') runId: string,
    @Param('taskId') taskId: string,
    @Param('mapIndex') mapIndex: string,
    @Param('key') key: string,
  ) {
    return this.data.xcom(dagId, runId, taskId, key, Number(mapIndex));
  }
}
