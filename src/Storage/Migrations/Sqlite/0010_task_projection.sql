-- The task index is projected by the database: triggers on orleans_grain_state turn every write of a task
-- grain's state into its noorg_tasks row, its counter deltas and its completion sample, inside the same
-- statement. A task change is one commit, and the index can never be behind (or ahead of) the state.
--
-- The triggers read the System.Text.Json state as the grain writes it (TaskGrainState: $.Task is the
-- TaskSnapshot, PascalCase names, enums as numbers, nulls omitted). The counters are moved from the values of
-- the task's current index row to the new ones, so they always sum to exactly the rows in noorg_tasks. SQLite
-- has one writer at a time, so every count lives in slot 0.

-- A task state row as index columns. Times become the index's 'yyyy-MM-ddTHH:mm:ss.ffffffZ' (the silo writes
-- them in UTC; .NET's up to 7 fractional digits are truncated to 6); processing_ms is the TimeSpan the task
-- reports, or the time from start to finish, in whole milliseconds.
CREATE VIEW noorg_task_projection AS
SELECT state_row, id, name, type, state, priority, assigned_to, attempt, created_at, updated_at, finished_at,
       next_attempt_at, waiting_count, required_capabilities, version,
       coalesce(CASE WHEN duration IS NULL
            THEN CAST((julianday(finished_at) - julianday(started_at)) * 86400000 AS INTEGER)
            ELSE days * 86400000 + CAST(substr(clock, 1, 2) AS INTEGER) * 3600000 + CAST(substr(clock, 4, 2) AS INTEGER) * 60000
                 + CAST(substr(clock, 7, 2) AS INTEGER) * 1000 + CAST(substr(substr(clock, 10) || '000', 1, 3) AS INTEGER)
       END, 0) AS processing_ms
FROM (
    SELECT *,
           CASE WHEN instr(duration, '.') BETWEEN 1 AND instr(duration, ':')
                THEN CAST(substr(duration, 1, instr(duration, '.') - 1) AS INTEGER) ELSE 0 END AS days,
           CASE WHEN instr(duration, '.') BETWEEN 1 AND instr(duration, ':')
                THEN substr(duration, instr(duration, '.') + 1) ELSE duration END AS clock
    FROM (
        SELECT s.rowid AS state_row,
               s.grain_id_string AS id,
               json_extract(s.payload, '$.Task.Spec.Name') AS name,
               json_extract(s.payload, '$.Task.Spec.Type') AS type,
               CASE coalesce(json_extract(s.payload, '$.Task.State'), 0)
                    WHEN 0 THEN 'pending' WHEN 1 THEN 'assigned' WHEN 2 THEN 'running'
                    WHEN 3 THEN 'completed' WHEN 4 THEN 'failed' WHEN 5 THEN 'cancelled' END AS state,
               coalesce(json_extract(s.payload, '$.Task.Spec.Priority'), 0) AS priority,
               json_extract(s.payload, '$.Task.AssignedTo') AS assigned_to,
               coalesce(json_extract(s.payload, '$.Task.Attempt'), 0) AS attempt,
               substr(json_extract(s.payload, '$.Task.CreatedAt'), 1, 19) || '.' || substr(substr(replace(replace(substr(json_extract(s.payload, '$.Task.CreatedAt'), 20), '+00:00', ''), 'Z', ''), 2) || '000000', 1, 6) || 'Z' AS created_at,
               substr(json_extract(s.payload, '$.Task.UpdatedAt'), 1, 19) || '.' || substr(substr(replace(replace(substr(json_extract(s.payload, '$.Task.UpdatedAt'), 20), '+00:00', ''), 'Z', ''), 2) || '000000', 1, 6) || 'Z' AS updated_at,
               substr(json_extract(s.payload, '$.Task.StartedAt'), 1, 19) || '.' || substr(substr(replace(replace(substr(json_extract(s.payload, '$.Task.StartedAt'), 20), '+00:00', ''), 'Z', ''), 2) || '000000', 1, 6) || 'Z' AS started_at,
               substr(json_extract(s.payload, '$.Task.FinishedAt'), 1, 19) || '.' || substr(substr(replace(replace(substr(json_extract(s.payload, '$.Task.FinishedAt'), 20), '+00:00', ''), 'Z', ''), 2) || '000000', 1, 6) || 'Z' AS finished_at,
               substr(json_extract(s.payload, '$.Task.NextAttemptAt'), 1, 19) || '.' || substr(substr(replace(replace(substr(json_extract(s.payload, '$.Task.NextAttemptAt'), 20), '+00:00', ''), 'Z', ''), 2) || '000000', 1, 6) || 'Z' AS next_attempt_at,
               coalesce(json_array_length(s.payload, '$.Task.WaitingOn'), 0) AS waiting_count,
               coalesce(json_extract(s.payload, '$.Task.Spec.RequiredCapabilities'), '[]') AS required_capabilities,
               coalesce(json_extract(s.payload, '$.Task.Version'), 0) AS version,
               json_extract(s.payload, '$.Task.ProcessingTime') AS duration
          FROM orleans_grain_state AS s
         WHERE s.state_name = 'task' AND json_type(s.payload, '$.Task') = 'object'
    )
);

-- The counter keys of each index row: the three dimensions the statistics read.
CREATE VIEW noorg_task_count_keys AS
SELECT id, 'state' AS dimension, state AS value FROM noorg_tasks
UNION ALL
SELECT id, 'priority', CASE priority WHEN 0 THEN 'low' WHEN 1 THEN 'medium' WHEN 2 THEN 'high' WHEN 3 THEN 'critical' END FROM noorg_tasks
UNION ALL
SELECT id, 'type', type FROM noorg_tasks;

CREATE TRIGGER noorg_project_task_insert AFTER INSERT ON orleans_grain_state
WHEN NEW.state_name = 'task'
BEGIN
    SELECT RAISE(ABORT, 'task state or priority is not a known value')
      FROM noorg_task_projection WHERE state_row = NEW.rowid AND (state IS NULL OR priority NOT BETWEEN 0 AND 3);
    INSERT INTO noorg_task_samples (task_id, type, agent_id, processing_ms, completed_at)
    SELECT p.id, p.type, p.assigned_to, p.processing_ms, coalesce(p.finished_at, p.updated_at) FROM noorg_task_projection AS p
     WHERE p.state_row = NEW.rowid AND p.state = 'completed'
       AND NOT EXISTS (SELECT 1 FROM noorg_tasks AS t WHERE t.id = p.id AND t.state = 'completed');
    -- Net deltas from the current index row to the new state, before the row changes: an unchanged dimension
    -- writes nothing.
    INSERT INTO noorg_task_counts (dimension, value, slot, tally)
    SELECT dimension, value, 0, sum(delta) FROM (
        SELECT dimension, value, -1 AS delta FROM noorg_task_count_keys WHERE id = NEW.grain_id_string
        UNION ALL
        SELECT 'state', state, 1 FROM noorg_task_projection WHERE state_row = NEW.rowid
        UNION ALL
        SELECT 'priority', CASE priority WHEN 0 THEN 'low' WHEN 1 THEN 'medium' WHEN 2 THEN 'high' WHEN 3 THEN 'critical' END, 1
          FROM noorg_task_projection WHERE state_row = NEW.rowid
        UNION ALL
        SELECT 'type', type, 1 FROM noorg_task_projection WHERE state_row = NEW.rowid
        UNION ALL
        SELECT 'outcome', p.state, 1 FROM noorg_task_projection AS p
         WHERE p.state_row = NEW.rowid AND p.state IN ('completed', 'failed')
           AND NOT EXISTS (SELECT 1 FROM noorg_tasks AS t WHERE t.id = p.id AND t.state = p.state)
    )
     WHERE value IS NOT NULL
     GROUP BY dimension, value
    HAVING sum(delta) <> 0
    ON CONFLICT (dimension, value, slot) DO UPDATE SET tally = tally + excluded.tally;
    INSERT INTO noorg_task_group_counts (state, type, priority, slot, tally)
    SELECT state, type, priority, 0, sum(delta) FROM (
        SELECT state, type, priority, -1 AS delta FROM noorg_tasks WHERE id = NEW.grain_id_string
        UNION ALL
        SELECT state, type, priority, 1 FROM noorg_task_projection WHERE state_row = NEW.rowid
    )
     WHERE true
     GROUP BY state, type, priority
    HAVING sum(delta) <> 0
    ON CONFLICT (state, type, priority, slot) DO UPDATE SET tally = tally + excluded.tally;
    DELETE FROM noorg_tasks
     WHERE id = NEW.grain_id_string AND NOT EXISTS (SELECT 1 FROM noorg_task_projection WHERE state_row = NEW.rowid);
    INSERT INTO noorg_tasks (id, name, type, state, priority, assigned_to, attempt, created_at, updated_at, finished_at, next_attempt_at, waiting_count, required_capabilities, version)
    SELECT id, name, type, state, priority, assigned_to, attempt, created_at, updated_at, finished_at, next_attempt_at, waiting_count, required_capabilities, version
      FROM noorg_task_projection WHERE state_row = NEW.rowid
    ON CONFLICT (id) DO UPDATE
       SET name = excluded.name, type = excluded.type, state = excluded.state, priority = excluded.priority,
           assigned_to = excluded.assigned_to, attempt = excluded.attempt, created_at = excluded.created_at,
           updated_at = excluded.updated_at, finished_at = excluded.finished_at,
           next_attempt_at = excluded.next_attempt_at, waiting_count = excluded.waiting_count,
           required_capabilities = excluded.required_capabilities, version = excluded.version
     WHERE (noorg_tasks.name, noorg_tasks.type, noorg_tasks.state, noorg_tasks.priority, noorg_tasks.assigned_to, noorg_tasks.attempt, noorg_tasks.created_at, noorg_tasks.updated_at, noorg_tasks.finished_at, noorg_tasks.next_attempt_at, noorg_tasks.waiting_count, noorg_tasks.required_capabilities, noorg_tasks.version)
           IS NOT (excluded.name, excluded.type, excluded.state, excluded.priority, excluded.assigned_to, excluded.attempt, excluded.created_at, excluded.updated_at, excluded.finished_at, excluded.next_attempt_at, excluded.waiting_count, excluded.required_capabilities, excluded.version);
END;

-- A write that leaves this part of the state as it was (an outbox clean-up, a quiet flag) does nothing here.
CREATE TRIGGER noorg_project_task_update AFTER UPDATE OF payload ON orleans_grain_state
WHEN NEW.state_name = 'task' AND json_extract(OLD.payload, '$.Task') IS NOT json_extract(NEW.payload, '$.Task')
BEGIN
    SELECT RAISE(ABORT, 'task state or priority is not a known value')
      FROM noorg_task_projection WHERE state_row = NEW.rowid AND (state IS NULL OR priority NOT BETWEEN 0 AND 3);
    INSERT INTO noorg_task_samples (task_id, type, agent_id, processing_ms, completed_at)
    SELECT p.id, p.type, p.assigned_to, p.processing_ms, coalesce(p.finished_at, p.updated_at) FROM noorg_task_projection AS p
     WHERE p.state_row = NEW.rowid AND p.state = 'completed'
       AND NOT EXISTS (SELECT 1 FROM noorg_tasks AS t WHERE t.id = p.id AND t.state = 'completed');
    -- Net deltas from the current index row to the new state, before the row changes: an unchanged dimension
    -- writes nothing.
    INSERT INTO noorg_task_counts (dimension, value, slot, tally)
    SELECT dimension, value, 0, sum(delta) FROM (
        SELECT dimension, value, -1 AS delta FROM noorg_task_count_keys WHERE id = NEW.grain_id_string
        UNION ALL
        SELECT 'state', state, 1 FROM noorg_task_projection WHERE state_row = NEW.rowid
        UNION ALL
        SELECT 'priority', CASE priority WHEN 0 THEN 'low' WHEN 1 THEN 'medium' WHEN 2 THEN 'high' WHEN 3 THEN 'critical' END, 1
          FROM noorg_task_projection WHERE state_row = NEW.rowid
        UNION ALL
        SELECT 'type', type, 1 FROM noorg_task_projection WHERE state_row = NEW.rowid
        UNION ALL
        SELECT 'outcome', p.state, 1 FROM noorg_task_projection AS p
         WHERE p.state_row = NEW.rowid AND p.state IN ('completed', 'failed')
           AND NOT EXISTS (SELECT 1 FROM noorg_tasks AS t WHERE t.id = p.id AND t.state = p.state)
    )
     WHERE value IS NOT NULL
     GROUP BY dimension, value
    HAVING sum(delta) <> 0
    ON CONFLICT (dimension, value, slot) DO UPDATE SET tally = tally + excluded.tally;
    INSERT INTO noorg_task_group_counts (state, type, priority, slot, tally)
    SELECT state, type, priority, 0, sum(delta) FROM (
        SELECT state, type, priority, -1 AS delta FROM noorg_tasks WHERE id = NEW.grain_id_string
        UNION ALL
        SELECT state, type, priority, 1 FROM noorg_task_projection WHERE state_row = NEW.rowid
    )
     WHERE true
     GROUP BY state, type, priority
    HAVING sum(delta) <> 0
    ON CONFLICT (state, type, priority, slot) DO UPDATE SET tally = tally + excluded.tally;
    DELETE FROM noorg_tasks
     WHERE id = NEW.grain_id_string AND NOT EXISTS (SELECT 1 FROM noorg_task_projection WHERE state_row = NEW.rowid);
    INSERT INTO noorg_tasks (id, name, type, state, priority, assigned_to, attempt, created_at, updated_at, finished_at, next_attempt_at, waiting_count, required_capabilities, version)
    SELECT id, name, type, state, priority, assigned_to, attempt, created_at, updated_at, finished_at, next_attempt_at, waiting_count, required_capabilities, version
      FROM noorg_task_projection WHERE state_row = NEW.rowid
    ON CONFLICT (id) DO UPDATE
       SET name = excluded.name, type = excluded.type, state = excluded.state, priority = excluded.priority,
           assigned_to = excluded.assigned_to, attempt = excluded.attempt, created_at = excluded.created_at,
           updated_at = excluded.updated_at, finished_at = excluded.finished_at,
           next_attempt_at = excluded.next_attempt_at, waiting_count = excluded.waiting_count,
           required_capabilities = excluded.required_capabilities, version = excluded.version
     WHERE (noorg_tasks.name, noorg_tasks.type, noorg_tasks.state, noorg_tasks.priority, noorg_tasks.assigned_to, noorg_tasks.attempt, noorg_tasks.created_at, noorg_tasks.updated_at, noorg_tasks.finished_at, noorg_tasks.next_attempt_at, noorg_tasks.waiting_count, noorg_tasks.required_capabilities, noorg_tasks.version)
           IS NOT (excluded.name, excluded.type, excluded.state, excluded.priority, excluded.assigned_to, excluded.attempt, excluded.created_at, excluded.updated_at, excluded.finished_at, excluded.next_attempt_at, excluded.waiting_count, excluded.required_capabilities, excluded.version);
END;

CREATE TRIGGER noorg_project_task_delete AFTER DELETE ON orleans_grain_state
WHEN OLD.state_name = 'task'
BEGIN
    INSERT INTO noorg_task_counts (dimension, value, slot, tally)
    SELECT dimension, value, 0, -1 FROM noorg_task_count_keys WHERE id = OLD.grain_id_string
    ON CONFLICT (dimension, value, slot) DO UPDATE SET tally = tally + excluded.tally;
    INSERT INTO noorg_task_group_counts (state, type, priority, slot, tally)
    SELECT state, type, priority, 0, -1 FROM noorg_tasks WHERE id = OLD.grain_id_string
    ON CONFLICT (state, type, priority, slot) DO UPDATE SET tally = tally + excluded.tally;
    DELETE FROM noorg_tasks WHERE id = OLD.grain_id_string;
END;

-- Rebuild the index from the stored states once, so it starts exactly equal to them (the C# projection it
-- replaces could lag a crash behind). Outcome counts and completion samples are history and stay.
DELETE FROM noorg_tasks;
DELETE FROM noorg_task_counts WHERE dimension <> 'outcome';
DELETE FROM noorg_task_group_counts;

INSERT INTO noorg_tasks (id, name, type, state, priority, assigned_to, attempt, created_at, updated_at, finished_at,
                         next_attempt_at, waiting_count, required_capabilities, version)
SELECT id, name, type, state, priority, assigned_to, attempt, created_at, updated_at, finished_at,
       next_attempt_at, waiting_count, required_capabilities, version
  FROM noorg_task_projection WHERE state IS NOT NULL AND priority BETWEEN 0 AND 3;

INSERT INTO noorg_task_counts (dimension, value, slot, tally)
SELECT dimension, value, 0, count(*) FROM noorg_task_count_keys WHERE true GROUP BY dimension, value;

INSERT INTO noorg_task_group_counts (state, type, priority, slot, tally)
SELECT state, type, priority, 0, count(*) FROM noorg_tasks WHERE true GROUP BY state, type, priority;
