CREATE TRIGGER dag_runs_events_update AFTER UPDATE ON dag_runs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION weft_dag_runs_events();
