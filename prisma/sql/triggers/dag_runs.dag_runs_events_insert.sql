CREATE TRIGGER dag_runs_events_insert AFTER INSERT ON dag_runs REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION weft_dag_runs_events();
