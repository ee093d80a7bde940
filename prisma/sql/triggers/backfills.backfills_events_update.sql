CREATE TRIGGER backfills_events_update AFTER UPDATE ON backfills FOR EACH ROW EXECUTE FUNCTION weft_backfills_touch();
