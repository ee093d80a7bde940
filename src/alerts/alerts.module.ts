import { Module } from '@nestjs/common';
import { RunsModule } from '../engine/runs/runs.module.js';
import { AlertsController } from './alerts.controller.js';

@Module({ imports: [RunsModule], controllers: [AlertsController] })
export class AlertsModule {}
