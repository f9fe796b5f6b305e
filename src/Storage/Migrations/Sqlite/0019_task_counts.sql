-- One set of counters per task write instead of two. Counts by state, by type and by priority are sums over the
-- group counters (state, type, priority), which every task write moves anyway; noorg_task_counts keeps only the
-- outcome dimension (completed and failed ever), which is history and outlives the tasks. The triggers of
-- 0010_task_projection are replaced by the same triggers without the per-dimension counters.

DROP TRIGGER noorg_project_task_insert;
DROP TRIGGER noorg_project_task_update;
DROP TRIGGER noorg_project_task_delete;
DROP VIEW noorg_task_count_keys;

CREATE TRIGGER noorg_project_task_insert AFTER INSERT ON orleans_grain_state
WHEN NEW.state_name = 'task'
BEGIN
    SELECT RAISE(ABORT, 'task state or priority is not a known value')
      FROM noorg_task_projection WHERE state_row = NEW.rowid AND (state IS NULL OR priority NOT BETWEEN 0 AND 3);
    INSERT INTO noorg_task_samples (task_id, type, agent_id, processing_ms, completed_at)
    SELECT p.id, p.type, p.assigned_to, p.processing_ms, coalesce(p.finished_at, p.updated_at) FROM noorg_task_projection AS p
     WHERE p.state_row = NEW.rowid AND p.state = 'completed'
       AND NOT EXISTS (SELECT 1 FROM noorg_tasks AS t WHERE t.id = p.id AND t.state = 'completed');
    -- Outcomes are history (they outlive the tasks): the one dimension kept apart from the group counts, whose
    -- net deltas from the current index row to the new state come next (an unchanged group writes nothing).
    INSERT INTO noorg_task_counts (dimension, value, slot, tally)
    SELECT 'outcome', p.state, 0, 1 FROM noorg_task_projection AS p
     WHERE p.state_row = NEW.rowid AND p.state IN ('completed', 'failed')
       AND NOT EXISTS (SELECT 1 FROM noorg_tasks AS t WHERE t.id = p.id AND t.state = p.state)
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
    -- Outcomes are history (they outlive the tasks): the one dimension kept apart from the group counts, whose
    -- net deltas from the current index row to the new state come next (an unchanged group writes nothing).
    INSERT INTO noorg_task_counts (dimension, value, slot, tally)
    SELECT 'outcome', p.state, 0, 1 FROM noorg_task_projection AS p
     WHERE p.state_row = NEW.rowid AND p.state IN ('completed', 'failed')
       AND NOT EXISTS (SELECT 1 FROM noorg_tasks AS t WHERE t.id = p.id AND t.state = p.state)
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
    INSERT INTO noorg_task_group_counts (state, type, priority, slot, tally)
    SELECT state, type, priority, 0, -1 FROM noorg_tasks WHERE id = OLD.grain_id_string
    ON CONFLICT (state, type, priority, slot) DO UPDATE SET tally = tally + excluded.tally;
    DELETE FROM noorg_tasks WHERE id = OLD.grain_id_string;
END;

DELETE FROM noorg_task_counts WHERE dimension <> 'outcome';
