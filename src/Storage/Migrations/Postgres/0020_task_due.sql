-- Task time-outs and deadlines without a reminder per task. A task grain stores when it next needs looking at by
-- itself (payload.DueAt: its running attempt's time-out or its deadline, whichever comes first) with every write;
-- these triggers keep noorg_task_due in step in the same statement, so a creation or a start with a time-out is one
-- commit instead of a reminder write and a state write. A fixed set of due shards (TaskDueShardGrain, one
-- reminder each) reads what is due from here and wakes those tasks; a task that is active fires its own timer.
-- slot spreads the tasks over the shards (the first byte of the state's key digest, 0 to 255).

CREATE TABLE noorg_task_due (
    task_id text        NOT NULL PRIMARY KEY,
    due_at  timestamptz NOT NULL,
    slot    smallint    NOT NULL
);

COMMENT ON TABLE noorg_task_due IS
    'Tasks waiting on a time-out or a deadline, projected from payload.DueAt of their grain state; read by the due shards.';

CREATE INDEX ix_noorg_task_due ON noorg_task_due (due_at, slot);

CREATE FUNCTION noorg_project_task_due() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
    due timestamptz;
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM noorg_task_due WHERE task_id = OLD.grain_id_string;
        RETURN NULL;
    END IF;

    due := noorg_json_time(NEW.payload ->> 'DueAt');
    IF due IS NULL THEN
        DELETE FROM noorg_task_due WHERE task_id = NEW.grain_id_string;
    ELSE
        INSERT INTO noorg_task_due (task_id, due_at, slot)
        VALUES (NEW.grain_id_string, due, get_byte(NEW.grain_key_digest, 0))
        ON CONFLICT (task_id) DO UPDATE SET due_at = excluded.due_at;
    END IF;

    RETURN NULL;
END
$fn$;

-- Only writes that move the due time call the function: a task with neither a time-out nor a deadline costs a
-- comparison in the trigger's WHEN, nothing more.
CREATE TRIGGER noorg_project_task_due_insert
AFTER INSERT ON orleans_grain_state
FOR EACH ROW WHEN (NEW.state_name = 'task' AND NEW.payload ->> 'DueAt' IS NOT NULL)
EXECUTE FUNCTION noorg_project_task_due();

CREATE TRIGGER noorg_project_task_due_update
AFTER UPDATE OF payload ON orleans_grain_state
FOR EACH ROW WHEN (NEW.state_name = 'task' AND OLD.payload ->> 'DueAt' IS DISTINCT FROM NEW.payload ->> 'DueAt')
EXECUTE FUNCTION noorg_project_task_due();

CREATE TRIGGER noorg_project_task_due_delete
AFTER DELETE ON orleans_grain_state
FOR EACH ROW WHEN (OLD.state_name = 'task' AND OLD.payload ->> 'DueAt' IS NOT NULL)
EXECUTE FUNCTION noorg_project_task_due();
