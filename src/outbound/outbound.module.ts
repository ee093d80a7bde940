import { Global, Module } from '@nestjs/common';
import { OutboundService } from './outbound.service.js';

/** Global: every feature that calls out (alerts, webhooks, registration checks) shares the same policies and agents. */
@Global()
@Module({ providers: [OutboundService], exports: [OutboundService] })
export class OutboundModule {}
