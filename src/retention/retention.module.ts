import { Module } from '@nestjs/common';
import { RetentionJob } from './retention.job.js';
import { RetentionRepository } from './retention.repository.js';

@Module({ providers: [RetentionRepository, RetentionJob], exports: [RetentionJob] })
export class RetentionModule {}
