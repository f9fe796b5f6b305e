-- An agent's load comes from its tasks, not from its own state (docs/agents.md, "Load"). A task that an agent
-- takes or gives up is one write, the task's; the agent holds the task in memory and rebuilds that from
-- noorg_tasks when it activates. So noorg_agents.active_tasks is counted by the task writes themselves: a trigger
-- moves it when a task's holder (its agent while assigned or running) changes, in the same statement. The agent's
-- own writes no longer set it; a new row starts from the tasks the agent already holds.

-- The tasks each agent holds: what a new agent row counts and what an activating agent reads back
-- (ITaskIndex.HeldByAsync). Only held tasks are in it, so neither reads the agent's finished tasks.
CREATE INDEX ix_noorg_tasks_held ON noorg_tasks (assigned_to, created_at, id) WHERE state IN ('assigned', 'running');

-- The agent holding a task (payload.Task), or NULL: the assignee while the task is assigned (1) or running (2).
CREATE FUNCTION noorg_task_holder(task jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT CASE WHEN jsonb_typeof(task) = 'object' AND coalesce((task ->> 'State')::int, 0) IN (1, 2) THEN task ->> 'AssignedTo' END
$fn$;

CREATE FUNCTION noorg_count_agent_load() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
    before_holder text;
    after_holder  text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        before_holder := noorg_task_holder(OLD.payload -> 'Task');
    END IF;
    IF TG_OP <> 'DELETE' THEN
        after_holder := noorg_task_holder(NEW.payload -> 'Task');
    END IF;

    IF before_holder IS DISTINCT FROM after_holder THEN
        -- One statement for both agents of a reassignment: rows are locked in key order, as by every task write.
        UPDATE noorg_agents
           SET active_tasks = greatest(active_tasks + CASE WHEN agent_id = after_holder THEN 1 ELSE -1 END, 0)
         WHERE agent_id IN (before_holder, after_holder);
    END IF;

    RETURN NULL;
END
$fn$;

CREATE TRIGGER noorg_count_agent_load_insert
AFTER INSERT ON orleans_grain_state
FOR EACH ROW WHEN (NEW.state_name = 'task' AND noorg_task_holder(NEW.payload -> 'Task') IS NOT NULL)
EXECUTE FUNCTION noorg_count_agent_load();

CREATE TRIGGER noorg_count_agent_load_update
AFTER UPDATE OF payload ON orleans_grain_state
FOR EACH ROW WHEN (NEW.state_name = 'task'
                   AND noorg_task_holder(OLD.payload -> 'Task') IS DISTINCT FROM noorg_task_holder(NEW.payload -> 'Task'))
EXECUTE FUNCTION noorg_count_agent_load();

CREATE TRIGGER noorg_count_agent_load_delete
AFTER DELETE ON orleans_grain_state
FOR EACH ROW WHEN (OLD.state_name = 'task' AND noorg_task_holder(OLD.payload -> 'Task') IS NOT NULL)
EXECUTE FUNCTION noorg_count_agent_load();

-- A new agent row counts the tasks its agent already holds (an agent registered again); an update leaves the count
-- to the task writes.
CREATE OR REPLACE FUNCTION noorg_agent_row(aid text, agent jsonb) RETURNS noorg_agents
LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$
    SELECT aid,
           agent -> 'Registration' ->> 'Name',
           agent -> 'Registration' ->> 'Type',
           (ARRAY['Available', 'Busy', 'Draining', 'Offline', 'Error'])[coalesce((agent ->> 'Status')::int, 0) + 1],
           agent ->> 'StatusReason',
           coalesce((agent -> 'Registration' -> 'Capabilities')::text, '[]'),
           (SELECT count(*)::int FROM noorg_tasks AS t WHERE t.assigned_to = aid AND t.state IN ('assigned', 'running')),
           (agent -> 'Registration' ->> 'MaxConcurrentTasks')::int,
           noorg_json_time(agent ->> 'LastHeartbeatAt'),
           noorg_json_time(agent ->> 'RegisteredAt'),
           noorg_json_time(agent ->> 'UpdatedAt'),
           coalesce((agent ->> 'Version')::bigint, 0),
           (ARRAY['Healthy', 'Degraded', 'Unhealthy'])[coalesce((agent ->> 'Health')::int, 0) + 1]
$fn$;

CREATE OR REPLACE FUNCTION noorg_project_agent() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
    aid        text;
    agent      jsonb;
    stored     text;
    registered boolean;
BEGIN
    IF TG_OP = 'DELETE' THEN
        aid := OLD.grain_id_string;
    ELSE
        aid := NEW.grain_id_string;
        agent := NEW.payload;
    END IF;

    registered := coalesce(jsonb_typeof(agent -> 'Registration') = 'object', false);
    IF NOT registered THEN
        DELETE FROM noorg_agents WHERE agent_id = aid; -- its capability rows go with it (ON DELETE CASCADE)
        RETURN NULL;
    END IF;

    SELECT a.capabilities INTO stored FROM noorg_agents AS a WHERE a.agent_id = aid;
    INSERT INTO noorg_agents SELECT * FROM noorg_agent_row(aid, agent)
    ON CONFLICT (agent_id) DO UPDATE
       SET name = excluded.name, agent_type = excluded.agent_type, status = excluded.status,
           status_reason = excluded.status_reason, capabilities = excluded.capabilities,
           max_concurrent = excluded.max_concurrent,
           last_heartbeat_at = excluded.last_heartbeat_at, registered_at = excluded.registered_at,
           updated_at = excluded.updated_at, version = excluded.version, health = excluded.health
     WHERE (noorg_agents.name, noorg_agents.agent_type, noorg_agents.status, noorg_agents.status_reason,
            noorg_agents.capabilities, noorg_agents.max_concurrent, noorg_agents.last_heartbeat_at,
            noorg_agents.registered_at, noorg_agents.updated_at, noorg_agents.version, noorg_agents.health)
           IS DISTINCT FROM
           (excluded.name, excluded.agent_type, excluded.status, excluded.status_reason, excluded.capabilities,
            excluded.max_concurrent, excluded.last_heartbeat_at, excluded.registered_at, excluded.updated_at,
            excluded.version, excluded.health);

    -- Heartbeats and load changes leave the capabilities alone: only a real change touches their rows.
    IF stored IS DISTINCT FROM coalesce((agent -> 'Registration' -> 'Capabilities')::text, '[]') THEN
        DELETE FROM noorg_agent_capabilities AS c
         WHERE c.agent_id = aid
           AND NOT (agent -> 'Registration' -> 'Capabilities') ? c.capability;
        INSERT INTO noorg_agent_capabilities (capability, agent_id)
        SELECT DISTINCT capability, aid FROM jsonb_array_elements_text(agent -> 'Registration' -> 'Capabilities') AS capability
        ON CONFLICT DO NOTHING;
    END IF;

    RETURN NULL;
END
$fn$;

-- Busy is no longer stored: it is read as "accepting work and at capacity". States written before this stay
-- readable: a stored Busy is Available.
UPDATE noorg_agents AS a
   SET active_tasks = (SELECT count(*) FROM noorg_tasks AS t WHERE t.assigned_to = a.agent_id AND t.state IN ('assigned', 'running')),
       status = CASE WHEN a.status = 'Busy' THEN 'Available' ELSE a.status END;
