import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { INT32_MAX, paginationSchema, parseInput, wholeNumber } from '../common/validation.js';
import { dagJsonSchema } from './domain/dag-document.schema.js';
import { dagListFilter } from './domain/dag-inputs.js';
import { AdminOnly, CanOperate, CanRead, Public } from '../access/roles.decorator.js';
import { DagsService } from './dags.service.js';
import { ApiContract } from '../openapi/contract.js';
import { dag, dagDocument, dagJsonSchemaDoc, dagPage, dagVersion, dagVersionPage, dagWithDocument, importErrorPage, registerDagResult, registrationPreview, schedulePreview } from '../openapi/schemas/dags.js';

const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');
const listQuery = dagListFilter.extend({ paused: boolParam.optional(), active: boolParam.optional() });
const patchBody = z.strictObject({ isPaused: z.boolean() });
const versionParam = wholeNumber(1, INT32_MAX);
const previewQuery = z.strictObject({
  after: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with offset' }).transform((s) => new Date(s)).optional(),
  count: wholeNumber(1, 1000, 10),
});

@ApiTags('dags')
@Controller('api/v1')
export class DagsController {
  constructor(private readonly dags: DagsService) {}

  @Post('dags')
  @AdminOnly()
  @ApiOperation({
    operationId: 'upsertDag',
    summary: 'Register or update a DAG; a new version is created only when the content changes',
  })
  @ApiContract({ body: dagDocument, responses: { 200: registerDagResult, 201: registerDagResult }, errors: { 409: 'The DAG id is defined by a DAG-folder file' } })
  async upsert(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const result = await this.dags.register(body);
    void reply.status(result.created ? 201 : 200);
    return result;
  }

  @Post('dags/validate')
  @CanRead()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'validateDag',
    summary: 'Validate a DAG document and tell what registering it would do (create, new version, unchanged), writing nothing',
  })
  @ApiContract({ body: dagDocument, responses: { 200: registrationPreview }, errors: { 409: 'The DAG id is defined by a DAG-folder file' } })
  validate(@Body() body: unknown) {
    return this.dags.previewRegistration(body);
  }

  @Get('dags')
  @CanRead()
  @ApiOperation({ operationId: 'listDags', summary: 'List DAGs' })
  @ApiContract({ query: listQuery, responses: { 200: dagPage } })
  list(@Query() query: unknown) {
    return this.dags.list(parseInput(listQuery, query));
  }

  @Get('dags/:dagId')
  @CanRead()
  @ApiOperation({ operationId: 'getDag', summary: 'A DAG with its latest document' })
  @ApiContract({ responses: { 200: dagWithDocument } })
  async get(@Param('dagId') dagId: string) {
    const { dag, document } = await this.dags.get(dagId);
    return { ...dag, document };
  }

  @Patch('dags/:dagId')
  @CanOperate()
  @ApiOperation({ operationId: 'patchDag', summary: 'Pause or unpause a DAG' })
  @ApiContract({ body: patchBody, responses: { 200: dag } })
  patch(@Param('dagId') dagId: string, @Body() body: unknown) {
    return this.dags.setPaused(dagId, parseInput(patchBody, body).isPaused);
  }

  @Delete('dags/:dagId')
  @AdminOnly()
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteDag', summary: 'Delete a DAG with its versions and runs' })
  @ApiContract({ responses: { 204: null } })
  async delete(@Param('dagId') dagId: string): Promise<void> {
    await this.dags.delete(dagId);
  }

  @Get('dags/:dagId/versions')
  @CanRead()
  @ApiOperation({ operationId: 'listDagVersions', summary: 'Versions of a DAG, newest first' })
  @ApiContract({ query: paginationSchema, responses: { 200: dagVersionPage } })
  versions(@Param('dagId') dagId: string, @Query() query: unknown) {
    const { limit, offset } = parseInput(paginationSchema, query);
    return this.dags.versions(dagId, limit, offset);
  }

  @Get('dags/:dagId/versions/:version')
  @CanRead()
  @ApiOperation({ operationId: 'getDagVersion', summary: 'One version of a DAG' })
  @ApiContract({ responses: { 200: dagVersion } })
  version(@Param('dagId') dagId: string, @Param('version') version: string) {
    return this.dags.version(dagId, parseInput(versionParam, version, 'version'));
  }

  @Get('dags/:dagId/schedulePreview')
  @CanRead()
  @ApiOperation({ operationId: 'getSchedulePreview', summary: 'The next data intervals, exactly as the scheduler will create them' })
  @ApiContract({ query: previewQuery, responses: { 200: schedulePreview } })
  schedulePreview(@Param('dagId') dagId: string, @Query() query: unknown) {
    const { after, count } = parseInput(previewQuery, query);
    return this.dags.schedulePreview(dagId, after ?? null, count);
  }

  @Get('importErrors')
  @CanRead()
  @ApiOperation({ operationId: 'listImportErrors', summary: 'DAG-folder files that failed to parse or validate' })
  @ApiContract({ query: paginationSchema, responses: { 200: importErrorPage } })
  importErrors(@Query() query: unknown) {
    const { limit, offset } = parseInput(paginationSchema, query);
    return this.dags.importErrors(limit, offset);
  }

  @Get('schemas/dag.json')
  @Public()
  @ApiOperation({ operationId: 'getDagJsonSchema', summary: 'JSON Schema of the DAG document' })
  @ApiContract({ responses: { 200: dagJsonSchemaDoc } })
  schema() {
    return dagJsonSchema();
  }
}
