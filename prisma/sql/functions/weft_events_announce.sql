CREATE OR REPLACE FUNCTION public.weft_events_announce()
 RETURNS void
 LANGUAGE plpgsql
AS $function$
BEGIN
  IF EXISTS (SELECT 1 FROM event_listeners WHERE expires_at > clock_timestamp()) THEN
    PERFORM pg_notify('weft_events_pending', '');
  END IF;
END $function$;
