import { DynamicModule, Module } from '@nestjs/common';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { PoolsModule } from '../pools/pools.module.js';
import { DagFolderService } from './dag-folder.service.js';
import { DagsController } from './dags.controller.js';
import { DagsRepository } from './dags.repository.js';
import { DagsService } from './dags.service.js';

@Module({})
export class DagsModule {
  static forRoot(opts: { watchFolder: boolean }): DynamicModule {
    return {
      module: DagsModule,
      imports: [DatasetsModule, PoolsModule],
      controllers: [DagsController],
      providers: [DagsRepository, DagsService, ...(opts.watchFolder ? [DagFolderService] : [])],
      exports: [DagsService],
    };
  }
}
