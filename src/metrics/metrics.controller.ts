import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CanRead, PublicWhen } from '../access/roles.decorator.js';
import { MetricsService } from './metrics.service.js';

/**
 * Prometheus exposition format (text, not JSON, hence outside the OpenAPI document). Public by default, as
 * scrapers expect; WEFT_METRICS_PUBLIC=false requires a key of role viewer or above (docs/operations.md).
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @PublicWhen((c) => c.metricsPublic)
  @CanRead()
  @Header('cache-control', 'no-store')
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    void reply.type(this.metrics.contentType);
    return this.metrics.scrape();
  }
}
