-- A task's history as append-only rows. The task state carries only the entry of the change it was written for
-- ($.NewEvents); triggers append it here inside the same statement, so a task write never carries its whole history
-- and a change cannot be stored without its entry. Only the newest $.HistoryLimit entries per task are kept; a
-- cleared state (a purged task) removes its history.

CREATE TABLE noorg_task_events (
    task_id  TEXT    NOT NULL,
    sequence INTEGER NOT NULL,
    event    TEXT    NOT NULL CHECK (json_valid(event)),
    PRIMARY KEY (task_id, sequence)
) WITHOUT ROWID;

-- A state written again without a new change (an outbox clean-up) repeats its entry: it is already here (an upsert
-- clause, not INSERT OR IGNORE, which the grain-state upsert that fires the trigger would override).
CREATE TRIGGER noorg_append_task_events_insert AFTER INSERT ON orleans_grain_state
WHEN NEW.state_name = 'task'
BEGIN
    DELETE FROM noorg_task_events
     WHERE task_id = NEW.grain_id_string AND json_type(NEW.payload, '$.Task') IS NOT 'object';
    INSERT INTO noorg_task_events (task_id, sequence, event)
    SELECT NEW.grain_id_string, json_extract(e.value, '$.Sequence'), e.value FROM json_each(NEW.payload, '$.NewEvents') AS e
     WHERE json_type(NEW.payload, '$.Task') = 'object'
    ON CONFLICT DO NOTHING;
    DELETE FROM noorg_task_events
     WHERE task_id = NEW.grain_id_string AND json_array_length(NEW.payload, '$.NewEvents') > 0
       AND sequence <= coalesce(json_extract(NEW.payload, '$.HistoryTotal'), 0) - coalesce(nullif(json_extract(NEW.payload, '$.HistoryLimit'), 0), 100000);
END;

-- A write that leaves this part of the state as it was (an outbox clean-up, a quiet flag) does nothing here.
CREATE TRIGGER noorg_append_task_events_update AFTER UPDATE OF payload ON orleans_grain_state
WHEN NEW.state_name = 'task' AND (json_extract(OLD.payload, '$.NewEvents') IS NOT json_extract(NEW.payload, '$.NewEvents') OR json_type(NEW.payload, '$.Task') IS NOT 'object')
BEGIN
    DELETE FROM noorg_task_events
     WHERE task_id = NEW.grain_id_string AND json_type(NEW.payload, '$.Task') IS NOT 'object';
    INSERT INTO noorg_task_events (task_id, sequence, event)
    SELECT NEW.grain_id_string, json_extract(e.value, '$.Sequence'), e.value FROM json_each(NEW.payload, '$.NewEvents') AS e
     WHERE json_type(NEW.payload, '$.Task') = 'object'
    ON CONFLICT DO NOTHING;
    DELETE FROM noorg_task_events
     WHERE task_id = NEW.grain_id_string AND json_array_length(NEW.payload, '$.NewEvents') > 0
       AND sequence <= coalesce(json_extract(NEW.payload, '$.HistoryTotal'), 0) - coalesce(nullif(json_extract(NEW.payload, '$.HistoryLimit'), 0), 100000);
END;

CREATE TRIGGER noorg_append_task_events_delete AFTER DELETE ON orleans_grain_state
WHEN OLD.state_name = 'task'
BEGIN
    DELETE FROM noorg_task_events WHERE task_id = OLD.grain_id_string;
END;

-- Move the histories the task states held ($.History) into the rows.
INSERT INTO noorg_task_events (task_id, sequence, event)
SELECT s.grain_id_string, json_extract(e.value, '$.Sequence'), e.value
  FROM orleans_grain_state AS s
  JOIN json_each(s.payload, '$.History') AS e
 WHERE s.state_name = 'task' AND json_type(s.payload, '$.Task') = 'object'
ON CONFLICT DO NOTHING;
