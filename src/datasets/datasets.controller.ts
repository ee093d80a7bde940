import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { paginationSchema, parseInput } from '../common/validation.js';
import { CanOperate, CanRead } from '../access/roles.decorator.js';
import { DatasetsService } from './datasets.service.js';
import { datasetEventFilter, postDatasetEventInput } from './domain/dataset-inputs.js';
import { ApiContract } from '../openapi/contract.js';
import { datasetEvent, datasetEventPage, datasetPage } from '../openapi/schemas/admin.js';

@ApiTags('datasets')
@CanRead()
@Controller('api/v1/datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  @Get()
  @ApiOperation({ operationId: 'listDatasets', summary: 'Datasets with their producing tasks and consuming DAGs' })
  @ApiContract({ query: paginationSchema, responses: { 200: datasetPage } })
  list(@Query() query: unknown) {
    const { limit, offset } = parseInput(paginationSchema, query);
    return this.datasets.list(limit, offset);
  }

  @Get('events')
  @ApiOperation({ operationId: 'listDatasetEvents', summary: 'Dataset updates, newest first (filter by uri and time)' })
  @ApiContract({ query: datasetEventFilter, responses: { 200: datasetEventPage } })
  events(@Query() query: unknown) {
    return this.datasets.events(parseInput(datasetEventFilter, query));
  }

  @Post('events')
  @CanOperate()
  @ApiOperation({ operationId: 'postDatasetEvent', summary: 'Record an update made outside Weft; DAGs scheduled on the dataset react' })
  @ApiContract({ body: postDatasetEventInput, responses: { 201: datasetEvent } })
  post(@Body() body: unknown) {
    const { uri, extra } = parseInput(postDatasetEventInput, body);
    return this.datasets.postEvent(uri, extra);
  }
}
