-- Task time-outs and deadlines without a reminder per task. A task grain stores when it next needs looking at by
-- itself (payload.DueAt: its running attempt's time-out or its deadline, whichever comes first, in UTC) with every
-- write; these triggers keep noorg_task_due in step in the same statement, so a creation or a start with a
-- time-out is one commit instead of a reminder write and a state write. A fixed set of due shards
-- (TaskDueShardGrain, one reminder each) reads what is due from here and wakes those tasks; a task that is active
-- fires its own timer. slot spreads the tasks over the shards (the low byte of the key's hash, 0 to 255); due_at is
-- text in the index's time format ('yyyy-MM-ddTHH:mm:ss.ffffffZ'), which sorts as time.

CREATE TABLE noorg_task_due (
    task_id TEXT    NOT NULL PRIMARY KEY,
    due_at  TEXT    NOT NULL,
    slot    INTEGER NOT NULL
);

CREATE INDEX ix_noorg_task_due ON noorg_task_due (due_at, slot);

CREATE VIEW noorg_task_due_projection AS
SELECT s.rowid AS state_row,
       s.grain_id_string AS task_id,
       substr(json_extract(s.payload, '$.DueAt'), 1, 19) || '.'
           || substr(substr(replace(replace(substr(json_extract(s.payload, '$.DueAt'), 20), '+00:00', ''), 'Z', ''), 2) || '000000', 1, 6)
           || 'Z' AS due_at,
       s.grain_id_hash & 255 AS slot
  FROM orleans_grain_state AS s
 WHERE s.state_name = 'task' AND json_extract(s.payload, '$.DueAt') IS NOT NULL;

-- Only writes that move the due time do anything: a task with neither a time-out nor a deadline costs the WHEN.
CREATE TRIGGER noorg_project_task_due_insert AFTER INSERT ON orleans_grain_state
WHEN NEW.state_name = 'task' AND json_extract(NEW.payload, '$.DueAt') IS NOT NULL
BEGIN
    INSERT INTO noorg_task_due (task_id, due_at, slot)
    SELECT task_id, due_at, slot FROM noorg_task_due_projection WHERE state_row = NEW.rowid
    ON CONFLICT (task_id) DO UPDATE SET due_at = excluded.due_at;
END;

CREATE TRIGGER noorg_project_task_due_update AFTER UPDATE OF payload ON orleans_grain_state
WHEN NEW.state_name = 'task' AND json_extract(OLD.payload, '$.DueAt') IS NOT json_extract(NEW.payload, '$.DueAt')
BEGIN
    DELETE FROM noorg_task_due
     WHERE task_id = NEW.grain_id_string AND NOT EXISTS (SELECT 1 FROM noorg_task_due_projection WHERE state_row = NEW.rowid);
    INSERT INTO noorg_task_due (task_id, due_at, slot)
    SELECT task_id, due_at, slot FROM noorg_task_due_projection WHERE state_row = NEW.rowid
    ON CONFLICT (task_id) DO UPDATE SET due_at = excluded.due_at;
END;

CREATE TRIGGER noorg_project_task_due_delete AFTER DELETE ON orleans_grain_state
WHEN OLD.state_name = 'task' AND json_extract(OLD.payload, '$.DueAt') IS NOT NULL
BEGIN
    DELETE FROM noorg_task_due WHERE task_id = OLD.grain_id_string;
END;
