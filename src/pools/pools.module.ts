import { Module } from '@nestjs/common';
import { PoolsController } from './pools.controller.js';
import { PoolsRepository } from './pools.repository.js';
import { PoolsService } from './pools.service.js';

@Module({ controllers: [PoolsController], providers: [PoolsRepository, PoolsService], exports: [PoolsService] })
export class PoolsModule {}
