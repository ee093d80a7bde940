CREATE TRIGGER sla_warnings_events AFTER INSERT ON sla_warnings REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION weft_sla_warnings_events();
