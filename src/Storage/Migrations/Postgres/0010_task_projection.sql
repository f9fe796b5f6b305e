-- The task index is projected by the database: a trigger on orleans_grain_state turns every write of a task
-- grain's state into its noorg_tasks row, its counter deltas and its completion sample, inside the same
-- statement. A task change is one commit, and the index can never be behind (or ahead of) the state.
--
-- The trigger reads the System.Text.Json state as the grain writes it (TaskGrainState: payload.Task is the
-- TaskSnapshot, PascalCase names, enums as numbers, nulls omitted). The counters are moved from the values of
-- the task's current index row to the new ones, so they always sum to exactly the rows in noorg_tasks.

-- .NET writes up to 7 fractional digits and PostgreSQL keeps 6: truncate, never round up past the true time. The
-- silo's own times are whole microseconds already (at most 'yyyy-MM-ddTHH:mm:ss.ffffff+00:00', 32 characters), so
-- the regular expression runs only for a longer text.
CREATE FUNCTION noorg_json_time(value text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$
    SELECT (CASE WHEN length(value) > 32 THEN regexp_replace(value, '(\.[0-9]{6})[0-9]+', '\1') ELSE value END)::timestamptz
$fn$;

-- A .NET TimeSpan as System.Text.Json writes it ("[d.]hh:mm:ss[.fffffff]") in whole milliseconds, truncated.
CREATE FUNCTION noorg_json_duration_ms(value text) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$
    SELECT CASE
        WHEN value ~ '^[0-9]+\.[0-9]+:' THEN
            split_part(value, '.', 1)::bigint * 86400000
            + trunc(extract(epoch FROM substr(value, strpos(value, '.') + 1)::interval) * 1000)::bigint
        ELSE trunc(extract(epoch FROM value::interval) * 1000)::bigint
    END
$fn$;

-- A task state (payload.Task) as its index row. An unknown state name comes out NULL and fails the NOT NULL.
CREATE FUNCTION noorg_task_row(tid text, task jsonb) RETURNS noorg_tasks
LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$
    SELECT tid,
           task -> 'Spec' ->> 'Name',
           task -> 'Spec' ->> 'Type',
           (ARRAY['pending', 'assigned', 'running', 'completed', 'failed', 'cancelled'])[coalesce((task ->> 'State')::int, 0) + 1],
           coalesce((task -> 'Spec' ->> 'Priority')::smallint, 0),
           task ->> 'AssignedTo',
           coalesce((task ->> 'Attempt')::int, 0),
           noorg_json_time(task ->> 'CreatedAt'),
           noorg_json_time(task ->> 'UpdatedAt'),
           noorg_json_time(task ->> 'FinishedAt'),
           noorg_json_time(task ->> 'NextAttemptAt'),
           coalesce(jsonb_array_length(task -> 'WaitingOn'), 0),
           coalesce((task -> 'Spec' -> 'RequiredCapabilities')::text, '[]'),
           coalesce((task ->> 'Version')::bigint, 0)
$fn$;

CREATE FUNCTION noorg_project_task() RETURNS trigger
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

    -- Net deltas only, in key order: an unchanged dimension writes nothing, and concurrent writers in the same
    -- slot lock counter rows in the same sequence.
    INSERT INTO noorg_task_counts AS c (dimension, value, slot, tally)
    SELECT d.dimension, d.value, counter_slot, sum(d.delta)
      FROM (VALUES ('state', old_state, -1), ('priority', (ARRAY['low', 'medium', 'high', 'critical'])[old_priority + 1], -1), ('type', old_type, -1),
                   ('state', new_state, 1), ('priority', (ARRAY['low', 'medium', 'high', 'critical'])[new_priority + 1], 1), ('type', new_type, 1),
                   ('outcome', CASE WHEN new_state IN ('completed', 'failed') AND old_state IS DISTINCT FROM new_state THEN new_state END, 1))
           AS d (dimension, value, delta)
     WHERE d.value IS NOT NULL
     GROUP BY d.dimension, d.value
    HAVING sum(d.delta) <> 0
     ORDER BY d.dimension, d.value
    ON CONFLICT (dimension, value, slot) DO UPDATE SET tally = c.tally + excluded.tally;

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

CREATE TRIGGER noorg_project_task_insert
AFTER INSERT ON orleans_grain_state
FOR EACH ROW WHEN (NEW.state_name = 'task')
EXECUTE FUNCTION noorg_project_task();

-- A write that leaves the task itself as it was (an outbox clean-up) has nothing to project: the function is not even called.
CREATE TRIGGER noorg_project_task_update
AFTER UPDATE OF payload ON orleans_grain_state
FOR EACH ROW WHEN (NEW.state_name = 'task' AND OLD.payload -> 'Task' IS DISTINCT FROM NEW.payload -> 'Task')
EXECUTE FUNCTION noorg_project_task();

CREATE TRIGGER noorg_project_task_delete
AFTER DELETE ON orleans_grain_state
FOR EACH ROW WHEN (OLD.state_name = 'task')
EXECUTE FUNCTION noorg_project_task();

-- Rebuild the index from the stored states once, so it starts exactly equal to them (the C# projection it
-- replaces could lag a crash behind). Outcome counts and completion samples are history and stay.
DELETE FROM noorg_tasks;
DELETE FROM noorg_task_counts WHERE dimension <> 'outcome';
DELETE FROM noorg_task_group_counts;

INSERT INTO noorg_tasks
SELECT r.*
  FROM orleans_grain_state AS s
 CROSS JOIN LATERAL noorg_task_row(s.grain_id_string, s.payload -> 'Task') AS r
 WHERE s.state_name = 'task' AND jsonb_typeof(s.payload -> 'Task') = 'object'
   AND coalesce((s.payload -> 'Task' ->> 'State')::numeric, 0) BETWEEN 0 AND 5
   AND coalesce((s.payload -> 'Task' -> 'Spec' ->> 'Priority')::numeric, 0) BETWEEN 0 AND 3;

INSERT INTO noorg_task_counts (dimension, value, slot, tally)
SELECT k.dimension, k.value, 0, count(*)
  FROM noorg_tasks AS t
 CROSS JOIN LATERAL (VALUES ('state', t.state), ('priority', (ARRAY['low', 'medium', 'high', 'critical'])[t.priority + 1]), ('type', t.type))
       AS k (dimension, value)
 GROUP BY k.dimension, k.value;

INSERT INTO noorg_task_group_counts (state, type, priority, slot, tally)
SELECT state, type, priority, 0, count(*) FROM noorg_tasks GROUP BY state, type, priority;
