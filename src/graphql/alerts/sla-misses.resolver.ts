import { Args, Query, Resolver } from '@nestjs/graphql';
import { AlertsService } from '../../alerts/alerts.service.js';
import { slaMissFilter } from '../../alerts/domain/alert-inputs.js';
import { CanRead } from '../../access/roles.decorator.js';
import { parseInput } from '../../common/validation.js';
import { PageArgs } from '../pagination.js';
import { SlaMiss, SlaMissFilter, SlaMissPage } from './sla-miss.types.js';

/** SLA misses: the same AlertsService call and filters as REST's /api/v1/slaMisses. */
@Resolver(() => SlaMiss)
export class SlaMissesResolver {
  constructor(private readonly alerts: AlertsService) {}

  @Query(() => SlaMissPage, { nullable: true, description: 'SLA misses, newest first, with their alert deliveries' })
  @CanRead()
  slaMisses(@Args('filter', { type: () => SlaMissFilter, nullable: true }) filter: SlaMissFilter | null, @Args() page: PageArgs) {
    return this.alerts.listSlaMisses(parseInput(slaMissFilter, { ...filter, ...page }));
  }
}
