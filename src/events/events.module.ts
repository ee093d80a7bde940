import { Module } from '@nestjs/common';
import { BackfillsModule } from '../backfills/backfills.module.js';
import { EngineModule } from '../engine/engine.module.js';
import { EVENT_BUS } from './event-bus.js';
import { EventsOutbox } from './events-outbox.service.js';
import { EventsRepository } from './events.repository.js';
import { PgEventBus } from './pg-event-bus.service.js';
import { SubscriptionsService } from './subscriptions.service.js';

/** State-change events for subscriptions: the outbox reader (PgEventBus, injected as EVENT_BUS) and its service. */
@Module({
  imports: [EngineModule, BackfillsModule],
  providers: [EventsRepository, EventsOutbox, PgEventBus, { provide: EVENT_BUS, useExisting: PgEventBus }, SubscriptionsService],
  exports: [SubscriptionsService, EVENT_BUS, EventsOutbox],
})
export class EventsModule {}
