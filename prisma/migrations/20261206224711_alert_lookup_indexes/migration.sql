-- Written by `npm run db:sql:migration` from prisma/sql/ (the files it changes are the source).
CREATE INDEX alert_deliveries_pagerduty_trigger_idx ON public.alert_deliveries USING btree (task_instance_id) WHERE ((channel = 'pagerduty'::text) AND (NOT (message ? 'action'::text)));
CREATE INDEX task_instances_dag_id_task_id_idx ON public.task_instances USING btree (dag_id, task_id);
