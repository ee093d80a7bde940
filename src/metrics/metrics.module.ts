import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { MetricsRepository } from './metrics.repository.js';
import { MetricsService } from './metrics.service.js';

/** Global: services on hot paths (leases, scheduler) bump its counters. */
@Global()
@Module({ controllers: [MetricsController], providers: [MetricsRepository, MetricsService], exports: [MetricsService] })
export class MetricsModule {}
