CREATE TRIGGER task_instances_events_update AFTER UPDATE ON task_instances REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION weft_task_instances_events();
