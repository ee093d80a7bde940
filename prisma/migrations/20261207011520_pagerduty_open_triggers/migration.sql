-- Written by `npm run db:sql:migration` from prisma/sql/ (the files it changes are the source).
DROP INDEX IF EXISTS public.alert_deliveries_pagerduty_trigger_idx;
CREATE INDEX alert_deliveries_pagerduty_trigger_idx ON public.alert_deliveries USING btree (task_instance_id) WHERE ((channel = 'pagerduty'::text) AND (NOT (message ? 'action'::text)) AND (resolved_at IS NULL));
