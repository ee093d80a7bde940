import { DynamicModule, Global, Module } from '@nestjs/common';
import { CONFIG, type Config } from './config/config.js';
import { DatabaseModule } from './database/database.module.js';
import { DATABASE_URL } from './database/database.tokens.js';
import { DagsModule } from './dags/dags.module.js';
import { HealthModule } from './health/health.module.js';
import { PoolsModule } from './pools/pools.module.js';
import { EngineModule } from './engine/engine.module.js';
import { SchedulerModule } from './scheduler/scheduler.module.js';
import { Clock } from './common/clock.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { BackfillsModule } from './backfills/backfills.module.js';
import { DatasetsModule } from './datasets/datasets.module.js';
import { AlertsModule } from './alerts/alerts.module.js';
import { GraphqlModule } from './graphql/graphql.module.js';
import { Lifecycle } from './lifecycle/lifecycle.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { SecretsModule } from './secrets/secrets.module.js';
import { OutboundModule } from './outbound/outbound.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

export type AppOptions = {
  config: Config;
  databaseUrl: string;
  /** Watch WEFT_DAGS_FOLDER in this process (`weft start`, `weft scheduler`). */
  watchDagsFolder: boolean;
  /** Run the scheduler loop in this process (`weft start`, `weft scheduler`). */
  runScheduler: boolean;
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
        Clock,
        Lifecycle,
      ],
      exports: [CONFIG, DATABASE_URL, Clock, Lifecycle],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(opts: AppOptions): DynamicModule {
    // One DagsModule instance, shared with GraphQL (a dynamic module is keyed by its object).
    const dags = DagsModule.forRoot({ watchFolder: opts.watchDagsFolder });
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(opts),
        DatabaseModule,
        MetricsModule,
        SecretsModule,
        OutboundModule,
        HealthModule,
        AuditModule,
        AuthModule,
        dags,
        EngineModule,
        PoolsModule,
        BackfillsModule,
        DatasetsModule,
        AlertsModule,
        WebhooksModule,
        SchedulerModule.forRoot({ enabled: opts.runScheduler }),
        GraphqlModule.forRoot({ dags }),
      ],
    };
  }
}
