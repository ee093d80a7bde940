CREATE TRIGGER task_instances_events_insert AFTER INSERT ON task_instances REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION weft_task_instances_events();
