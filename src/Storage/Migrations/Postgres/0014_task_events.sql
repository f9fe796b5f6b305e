-- A task's history as append-only rows. The task state carries only the entry of the change it was written for
-- (payload.NewEvents); a trigger appends it here inside the same statement, so a task write never carries its whole
-- history and a change cannot be stored without its entry. Only the newest payload.HistoryLimit entries per task
-- are kept; a cleared state (a purged task) removes its history.

CREATE TABLE noorg_task_events (
    task_id  text   NOT NULL,
    sequence bigint NOT NULL,
    event    jsonb  NOT NULL,
    PRIMARY KEY (task_id, sequence)
);

COMMENT ON TABLE noorg_task_events IS
    'Task history: one row per TaskEvent (System.Text.Json), appended from the task state write.';

CREATE FUNCTION noorg_append_task_events() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM noorg_task_events WHERE task_id = OLD.grain_id_string;
        RETURN NULL;
    END IF;

    IF NOT coalesce(jsonb_typeof(NEW.payload -> 'Task') = 'object', false) THEN
        DELETE FROM noorg_task_events WHERE task_id = NEW.grain_id_string;
        RETURN NULL;
    END IF;

    IF jsonb_typeof(NEW.payload -> 'NewEvents') = 'array' AND jsonb_array_length(NEW.payload -> 'NewEvents') > 0 THEN
        -- A state written again without a new change (an outbox clean-up) repeats its entry: it is already here.
        INSERT INTO noorg_task_events (task_id, sequence, event)
        SELECT NEW.grain_id_string, (e ->> 'Sequence')::bigint, e FROM jsonb_array_elements(NEW.payload -> 'NewEvents') AS e
        ON CONFLICT DO NOTHING;
        DELETE FROM noorg_task_events
         WHERE task_id = NEW.grain_id_string
           AND sequence <= coalesce((NEW.payload ->> 'HistoryTotal')::bigint, 0) - coalesce(nullif((NEW.payload ->> 'HistoryLimit')::bigint, 0), 100000);
    END IF;

    RETURN NULL;
END
$fn$;

CREATE TRIGGER noorg_append_task_events_insert
AFTER INSERT ON orleans_grain_state
FOR EACH ROW WHEN (NEW.state_name = 'task')
EXECUTE FUNCTION noorg_append_task_events();

-- A write that repeats the last change's entry (an outbox clean-up) has nothing to append.
CREATE TRIGGER noorg_append_task_events_update
AFTER UPDATE OF payload ON orleans_grain_state
FOR EACH ROW WHEN (NEW.state_name = 'task' AND (OLD.payload -> 'NewEvents' IS DISTINCT FROM NEW.payload -> 'NewEvents' OR NEW.payload -> 'Task' IS NULL))
EXECUTE FUNCTION noorg_append_task_events();

CREATE TRIGGER noorg_append_task_events_delete
AFTER DELETE ON orleans_grain_state
FOR EACH ROW WHEN (OLD.state_name = 'task')
EXECUTE FUNCTION noorg_append_task_events();

-- Move the histories the task states held (payload.History) into the rows.
INSERT INTO noorg_task_events (task_id, sequence, event)
SELECT s.grain_id_string, (e ->> 'Sequence')::bigint, e
  FROM orleans_grain_state AS s
 CROSS JOIN LATERAL jsonb_array_elements(s.payload -> 'History') AS e
 WHERE s.state_name = 'task' AND jsonb_typeof(s.payload -> 'Task') = 'object' AND jsonb_typeof(s.payload -> 'History') = 'array'
ON CONFLICT DO NOTHING;
