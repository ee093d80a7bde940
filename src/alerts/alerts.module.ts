import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module.js';
import { AlertsController } from './alerts.controller.js';
import { AlertsRepository } from './alerts.repository.js';
import { AlertsService } from './alerts.service.js';
import { CheckSlaWarningsJob } from './check-sla-warnings.job.js';
import { CheckSlasJob } from './check-slas.job.js';
import { DeliverAlertsJob } from './deliver-alerts.job.js';

@Module({
  imports: [EngineModule],
  controllers: [AlertsController],
  providers: [AlertsRepository, AlertsService, CheckSlasJob, CheckSlaWarningsJob, DeliverAlertsJob],
  exports: [AlertsService],
})
export class AlertsModule {}
