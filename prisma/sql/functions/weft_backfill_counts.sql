CREATE OR REPLACE FUNCTION public.weft_backfill_counts(p_backfill_id integer)
 RETURNS TABLE(total integer, pending integer, skipped integer, queued integer, running integer, success integer, failed integer)
 LANGUAGE sql
 STABLE
AS $function$
  -- A date is pending or skipped by its item's status; a started one counts under its run's state. A started date
  -- whose run row is gone (deleted by retention) counts in the total only: it has no state to show.
  SELECT count(*)::int,
         count(*) FILTER (WHERE i.status = 'pending')::int,
         count(*) FILTER (WHERE i.status = 'skipped')::int,
         count(*) FILTER (WHERE i.status <> 'pending' AND i.status <> 'skipped' AND r.state = 'queued')::int,
         count(*) FILTER (WHERE i.status <> 'pending' AND i.status <> 'skipped' AND r.state = 'running')::int,
         count(*) FILTER (WHERE i.status <> 'pending' AND i.status <> 'skipped' AND r.state = 'success')::int,
         count(*) FILTER (WHERE i.status <> 'pending' AND i.status <> 'skipped' AND r.state = 'failed')::int
    FROM backfill_runs i LEFT JOIN dag_runs r ON r.id = i.dag_run_id
   WHERE i.backfill_id = p_backfill_id
$function$;
