CREATE TRIGGER sla_misses_events AFTER INSERT ON sla_misses REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION weft_sla_misses_events();
