CREATE TRIGGER backfill_runs_events_insert AFTER INSERT ON backfill_runs REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION weft_backfill_items_touch();
