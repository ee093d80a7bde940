import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module.js';
import { AlertsController } from './alerts.controller.js';
import { AlertsRepository } from './alerts.repository.js';
import { AlertsService } from './alerts.service.js';

@Module({ imports: [EngineModule], controllers: [AlertsController], providers: [AlertsRepository, AlertsService], exports: [AlertsService] })
export class AlertsModule {}
