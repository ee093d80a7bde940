import { Args, Query, Resolver } from '@nestjs/graphql';
import { AlertsService } from '../../alerts/alerts.service.js';
import { slaMissFilter } from '../../alerts/domain/alert-inputs.js';
import { CanRead } from '../../access/roles.decorator.js';
import { parseInput } from '../../common/validation.js';
import { PageArgs } from '../pagination.js';
import { SlaMissFilter, SlaWarning, SlaWarningPage } from './sla-miss.types.js';

/** SLA early warnings: the same AlertsService call and filters as REST's /api/v1/slaWarnings. */
@Resolver(() => SlaWarning)
export class SlaWarningsResolver {
  constructor(private readonly alerts: AlertsService) {}

  @Query(() => SlaWarningPage, { nullable: true, description: 'SLA early warnings, newest first, with their alert deliveries' })
  @CanRead()
  slaWarnings(@Args('filter', { type: () => SlaMissFilter, nullable: true }) filter: SlaMissFilter | null, @Args() page: PageArgs) {
    return this.alerts.listSlaWarnings(parseInput(slaMissFilter, { ...filter, ...page }));
  }
}
