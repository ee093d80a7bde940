import { DynamicModule, Global, Module } from '@nestjs/common';
import { CONFIG, type Config } from './config/config.js';
import { DatabaseModule } from './database/database.module.js';
import { DATABASE_URL } from './database/database.tokens.js';
import { DagsModule } from './dags/dags.module.js';
import { HealthModule } from './health/health.module.js';

export type AppOptions = {
  config: Config;
  databaseUrl: string;
  /** Watch WEFT_DAGS_FOLDER in this process (the API role of `weft start`, or `weft scheduler`). */
  watchDagsFolder: boolean;
};

@Global()
@Module({})
class CoreModule {
  static forRoot(opts: AppOptions): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: CONFIG, useValue: opts.config },
        { provide: DATABASE_URL, useValue: opts.databaseUrl },
      ],
      exports: [CONFIG, DATABASE_URL],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(opts: AppOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(opts), DatabaseModule, HealthModule, DagsModule.forRoot({ watchFolder: opts.watchDagsFolder })],
    };
  }
}
