import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../access/roles.decorator.js';
import { HealthService, type Readiness } from './health.service.js';
import { ApiContract } from '../openapi/contract.js';
import { health, readiness } from '../openapi/schemas/admin.js';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  @HttpCode(200)
  @ApiOperation({ operationId: 'getHealth', summary: 'Liveness: the process answers' })
  @ApiContract({ responses: { 200: health } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ operationId: 'getReadiness', summary: 'Readiness: database reachable and migrations applied' })
  @ApiContract({ responses: { 200: readiness, 503: readiness } })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Readiness> {
    const report = await this.health.readiness();
    void reply.status(report.status === 'ok' ? 200 : 503);
    return report;
  }
}
