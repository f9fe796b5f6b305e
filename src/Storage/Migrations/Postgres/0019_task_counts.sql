-- One set of counters per task write instead of two. Counts by state, by type and by priority are sums over the
-- group counters (state, type, priority), which every task write moves anyway; noorg_task_counts keeps only the
-- outcome dimension (completed and failed ever), which is history and outlives the tasks. A change of state now
-- moves two counter rows instead of four, and a creation one instead of four.

CREATE OR REPLACE FUNCTION noorg_project_task() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
    tid          text;
    task         jsonb;
    counter_slot smallint;
    old_state    text;
    old_priority int;
    old_type     text;
    new_state    text;
    new_priority int;
    new_type     text;
    processing   bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        tid := OLD.grain_id_string;
        counter_slot := get_byte(OLD.grain_key_digest, 0);
    ELSE
        tid := NEW.grain_id_string;
        task := NEW.payload -> 'Task';
        counter_slot := get_byte(NEW.grain_key_digest, 0);
    END IF;

    SELECT t.state, t.priority, t.type INTO old_state, old_priority, old_type FROM noorg_tasks AS t WHERE t.id = tid;

    IF task IS NOT NULL AND jsonb_typeof(task) = 'object' THEN
        new_state := (ARRAY['pending', 'assigned', 'running', 'completed', 'failed', 'cancelled'])[coalesce((task ->> 'State')::int, 0) + 1];
        new_priority := coalesce((task -> 'Spec' ->> 'Priority')::int, 0);
        new_type := task -> 'Spec' ->> 'Type';
        IF new_state IS NULL OR new_priority NOT BETWEEN 0 AND 3 THEN
            -- Refuse the whole write: a state the index cannot hold would never be listed or dispatched.
            RAISE EXCEPTION 'task %: state % or priority % is not a known value', tid, task ->> 'State', task -> 'Spec' ->> 'Priority'
                USING ERRCODE = '22023';
        END IF;

        INSERT INTO noorg_tasks SELECT * FROM noorg_task_row(tid, task)
        ON CONFLICT (id) DO UPDATE
           SET name = excluded.name, type = excluded.type, state = excluded.state, priority = excluded.priority,
               assigned_to = excluded.assigned_to, attempt = excluded.attempt, created_at = excluded.created_at,
               updated_at = excluded.updated_at, finished_at = excluded.finished_at,
               next_attempt_at = excluded.next_attempt_at, waiting_count = excluded.waiting_count,
               required_capabilities = excluded.required_capabilities, version = excluded.version
         WHERE (noorg_tasks.*) IS DISTINCT FROM (excluded.*); -- a write that changes no column (an outbox clean-up) leaves the row alone

        IF new_state = 'completed' AND old_state IS DISTINCT FROM 'completed' THEN
            processing := coalesce(
                noorg_json_duration_ms(task ->> 'ProcessingTime'),
                trunc(extract(epoch FROM noorg_json_time(task ->> 'FinishedAt') - noorg_json_time(task ->> 'StartedAt')) * 1000)::bigint,
                0);
            INSERT INTO noorg_task_samples (task_id, type, agent_id, processing_ms, completed_at)
            VALUES (tid, new_type, task ->> 'AssignedTo', processing,
                    coalesce(noorg_json_time(task ->> 'FinishedAt'), noorg_json_time(task ->> 'UpdatedAt')));
        END IF;
    ELSIF old_state IS NOT NULL THEN
        DELETE FROM noorg_tasks WHERE id = tid; -- cleared or deleted state: completion samples stay
    END IF;

    IF old_state IS NOT DISTINCT FROM new_state AND old_priority IS NOT DISTINCT FROM new_priority
       AND old_type IS NOT DISTINCT FROM new_type THEN
        RETURN NULL; -- no counted value changed (and an outcome is counted only when the state changes)
    END IF;

    -- Outcomes are history (they outlive the tasks): the one dimension kept apart from the group counts.
    IF new_state IN ('completed', 'failed') AND old_state IS DISTINCT FROM new_state THEN
        INSERT INTO noorg_task_counts AS c (dimension, value, slot, tally)
        VALUES ('outcome', new_state, counter_slot, 1)
        ON CONFLICT (dimension, value, slot) DO UPDATE SET tally = c.tally + excluded.tally;
    END IF;

    -- Net deltas only, in key order: an unchanged group writes nothing, and concurrent writers in the same slot
    -- lock counter rows in the same sequence.
    INSERT INTO noorg_task_group_counts AS g (state, type, priority, slot, tally)
    SELECT d.state, d.type, d.priority, counter_slot, sum(d.delta)
      FROM (VALUES (old_state, old_type, old_priority, -1), (new_state, new_type, new_priority, 1)) AS d (state, type, priority, delta)
     WHERE d.state IS NOT NULL
     GROUP BY d.state, d.type, d.priority
    HAVING sum(d.delta) <> 0
     ORDER BY d.state, d.type, d.priority
    ON CONFLICT (state, type, priority, slot) DO UPDATE SET tally = g.tally + excluded.tally;

    RETURN NULL;
END
$fn$;

DELETE FROM noorg_task_counts WHERE dimension <> 'outcome';
