CREATE TRIGGER backfill_runs_events_update AFTER UPDATE ON backfill_runs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION weft_backfill_items_touch();
