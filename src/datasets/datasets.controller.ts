import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { paginationSchema, parseInput } from '../common/validation.js';
import { DatasetsService } from './datasets.service.js';

const isoDate = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with offset' }).transform((s) => new Date(s));
const eventsQuery = paginationSchema.extend({ uri: z.string().min(1).optional(), since: isoDate.optional(), until: isoDate.optional() });
const postBody = z.strictObject({ uri: z.string().min(1).max(1000), extra: z.record(z.string(), z.json()).default({}) });

@ApiTags('datasets')
@Controller('api/v1/datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  @Get()
  @ApiOperation({ operationId: 'listDatasets', summary: 'Datasets with their producing tasks and consuming DAGs' })
  list(@Query() query: unknown) {
    const { limit, offset } = parseInput(paginationSchema, query);
    return this.datasets.list(limit, offset);
  }

  @Get('events')
  @ApiOperation({ operationId: 'listDatasetEvents', summary: 'Dataset updates, newest first (filter by uri and time)' })
  events(@Query() query: unknown) {
    return this.datasets.events(parseInput(eventsQuery, query));
  }

  @Post('events')
  @ApiOperation({ operationId: 'postDatasetEvent', summary: 'Record an update made outside Weft; DAGs scheduled on the dataset react' })
  post(@Body() body: unknown) {
    const { uri, extra } = parseInput(postBody, body);
    return this.datasets.postEvent(uri, extra);
  }
}
