-- An agent's load comes from its tasks, not from its own state (docs/agents.md, "Load"). A task that an agent
-- takes or gives up is one write, the task's; the agent holds the task in memory and rebuilds that from
-- noorg_tasks when it activates. So noorg_agents.active_tasks is counted by the task writes themselves: triggers
-- move it when a task's holder (its agent while assigned or running) changes, in the same statement. The agent's
-- own writes no longer set it; a new row starts from the tasks the agent already holds.

-- The tasks each agent holds: what a new agent row counts and what an activating agent reads back
-- (ITaskIndex.HeldByAsync). Only held tasks are in it, so neither reads the agent's finished tasks.
CREATE INDEX ix_noorg_tasks_held ON noorg_tasks (assigned_to, created_at, id) WHERE state IN ('assigned', 'running');

CREATE TRIGGER noorg_count_agent_load_insert AFTER INSERT ON orleans_grain_state
WHEN NEW.state_name = 'task' AND json_extract(NEW.payload, '$.Task.State') IN (1, 2)
BEGIN
    UPDATE noorg_agents SET active_tasks = active_tasks + 1
     WHERE agent_id = json_extract(NEW.payload, '$.Task.AssignedTo');
END;

CREATE TRIGGER noorg_count_agent_load_update AFTER UPDATE OF payload ON orleans_grain_state
WHEN NEW.state_name = 'task'
     AND (CASE WHEN json_extract(OLD.payload, '$.Task.State') IN (1, 2) THEN json_extract(OLD.payload, '$.Task.AssignedTo') END)
         IS NOT (CASE WHEN json_extract(NEW.payload, '$.Task.State') IN (1, 2) THEN json_extract(NEW.payload, '$.Task.AssignedTo') END)
BEGIN
    UPDATE noorg_agents SET active_tasks = max(active_tasks - 1, 0)
     WHERE json_extract(OLD.payload, '$.Task.State') IN (1, 2) AND agent_id = json_extract(OLD.payload, '$.Task.AssignedTo');
    UPDATE noorg_agents SET active_tasks = active_tasks + 1
     WHERE json_extract(NEW.payload, '$.Task.State') IN (1, 2) AND agent_id = json_extract(NEW.payload, '$.Task.AssignedTo');
END;

CREATE TRIGGER noorg_count_agent_load_delete AFTER DELETE ON orleans_grain_state
WHEN OLD.state_name = 'task' AND json_extract(OLD.payload, '$.Task.State') IN (1, 2)
BEGIN
    UPDATE noorg_agents SET active_tasks = max(active_tasks - 1, 0)
     WHERE agent_id = json_extract(OLD.payload, '$.Task.AssignedTo');
END;

-- A new agent row counts the tasks its agent already holds (an agent registered again); an update leaves the count
-- to the task writes.
DROP TRIGGER noorg_project_agent_insert;
DROP TRIGGER noorg_project_agent_update;
DROP VIEW noorg_agent_projection;

CREATE VIEW noorg_agent_projection AS
SELECT s.rowid AS state_row,
       s.grain_id_string AS agent_id,
       json_extract(s.payload, '$.Registration.Name') AS name,
       json_extract(s.payload, '$.Registration.Type') AS agent_type,
       CASE coalesce(json_extract(s.payload, '$.Status'), 0)
            WHEN 0 THEN 'Available' WHEN 1 THEN 'Busy' WHEN 2 THEN 'Draining' WHEN 3 THEN 'Offline' WHEN 4 THEN 'Error' END AS status,
       json_extract(s.payload, '$.StatusReason') AS status_reason,
       coalesce(json_extract(s.payload, '$.Registration.Capabilities'), '[]') AS capabilities,
       (SELECT count(*) FROM noorg_tasks AS t WHERE t.assigned_to = s.grain_id_string AND t.state IN ('assigned', 'running')) AS active_tasks,
       json_extract(s.payload, '$.Registration.MaxConcurrentTasks') AS max_concurrent,
       json_extract(s.payload, '$.LastHeartbeatAt') AS last_heartbeat_at,
       json_extract(s.payload, '$.RegisteredAt') AS registered_at,
       json_extract(s.payload, '$.UpdatedAt') AS updated_at,
       coalesce(json_extract(s.payload, '$.Version'), 0) AS version,
       CASE coalesce(json_extract(s.payload, '$.Health'), 0) WHEN 0 THEN 'Healthy' WHEN 1 THEN 'Degraded' WHEN 2 THEN 'Unhealthy' END AS health
  FROM orleans_grain_state AS s
 WHERE s.state_name = 'agent' AND json_type(s.payload, '$.Registration') = 'object';

CREATE TRIGGER noorg_project_agent_insert AFTER INSERT ON orleans_grain_state
WHEN NEW.state_name = 'agent'
BEGIN
    DELETE FROM noorg_agent_capabilities
     WHERE agent_id = NEW.grain_id_string
       AND NOT EXISTS (SELECT 1 FROM noorg_agent_projection AS p, json_each(p.capabilities) AS c
                        WHERE p.state_row = NEW.rowid AND c.value = noorg_agent_capabilities.capability);
    DELETE FROM noorg_agents
     WHERE agent_id = NEW.grain_id_string AND NOT EXISTS (SELECT 1 FROM noorg_agent_projection WHERE state_row = NEW.rowid);
    INSERT INTO noorg_agents (agent_id, name, agent_type, status, status_reason, capabilities, active_tasks, max_concurrent, last_heartbeat_at, registered_at, updated_at, version, health)
    SELECT agent_id, name, agent_type, status, status_reason, capabilities, active_tasks, max_concurrent, last_heartbeat_at, registered_at, updated_at, version, health
      FROM noorg_agent_projection WHERE state_row = NEW.rowid
    ON CONFLICT (agent_id) DO UPDATE
       SET name = excluded.name, agent_type = excluded.agent_type, status = excluded.status,
           status_reason = excluded.status_reason, capabilities = excluded.capabilities,
           max_concurrent = excluded.max_concurrent,
           last_heartbeat_at = excluded.last_heartbeat_at, registered_at = excluded.registered_at,
           updated_at = excluded.updated_at, version = excluded.version, health = excluded.health
     WHERE (noorg_agents.name, noorg_agents.agent_type, noorg_agents.status, noorg_agents.status_reason, noorg_agents.capabilities, noorg_agents.max_concurrent, noorg_agents.last_heartbeat_at, noorg_agents.registered_at, noorg_agents.updated_at, noorg_agents.version, noorg_agents.health)
           IS NOT (excluded.name, excluded.agent_type, excluded.status, excluded.status_reason, excluded.capabilities, excluded.max_concurrent, excluded.last_heartbeat_at, excluded.registered_at, excluded.updated_at, excluded.version, excluded.health);
    INSERT INTO noorg_agent_capabilities (capability, agent_id)
    SELECT DISTINCT c.value, p.agent_id FROM noorg_agent_projection AS p, json_each(p.capabilities) AS c
     WHERE p.state_row = NEW.rowid
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER noorg_project_agent_update AFTER UPDATE OF payload ON orleans_grain_state
WHEN NEW.state_name = 'agent'
BEGIN
    DELETE FROM noorg_agent_capabilities
     WHERE agent_id = NEW.grain_id_string
       AND NOT EXISTS (SELECT 1 FROM noorg_agent_projection AS p, json_each(p.capabilities) AS c
                        WHERE p.state_row = NEW.rowid AND c.value = noorg_agent_capabilities.capability);
    DELETE FROM noorg_agents
     WHERE agent_id = NEW.grain_id_string AND NOT EXISTS (SELECT 1 FROM noorg_agent_projection WHERE state_row = NEW.rowid);
    INSERT INTO noorg_agents (agent_id, name, agent_type, status, status_reason, capabilities, active_tasks, max_concurrent, last_heartbeat_at, registered_at, updated_at, version, health)
    SELECT agent_id, name, agent_type, status, status_reason, capabilities, active_tasks, max_concurrent, last_heartbeat_at, registered_at, updated_at, version, health
      FROM noorg_agent_projection WHERE state_row = NEW.rowid
    ON CONFLICT (agent_id) DO UPDATE
       SET name = excluded.name, agent_type = excluded.agent_type, status = excluded.status,
           status_reason = excluded.status_reason, capabilities = excluded.capabilities,
           max_concurrent = excluded.max_concurrent,
           last_heartbeat_at = excluded.last_heartbeat_at, registered_at = excluded.registered_at,
           updated_at = excluded.updated_at, version = excluded.version, health = excluded.health
     WHERE (noorg_agents.name, noorg_agents.agent_type, noorg_agents.status, noorg_agents.status_reason, noorg_agents.capabilities, noorg_agents.max_concurrent, noorg_agents.last_heartbeat_at, noorg_agents.registered_at, noorg_agents.updated_at, noorg_agents.version, noorg_agents.health)
           IS NOT (excluded.name, excluded.agent_type, excluded.status, excluded.status_reason, excluded.capabilities, excluded.max_concurrent, excluded.last_heartbeat_at, excluded.registered_at, excluded.updated_at, excluded.version, excluded.health);
    INSERT INTO noorg_agent_capabilities (capability, agent_id)
    SELECT DISTINCT c.value, p.agent_id FROM noorg_agent_projection AS p, json_each(p.capabilities) AS c
     WHERE p.state_row = NEW.rowid
    ON CONFLICT DO NOTHING;
END;

-- Busy is no longer stored: it is read as "accepting work and at capacity". States written before this stay
-- readable: a stored Busy is Available.
UPDATE noorg_agents
   SET active_tasks = (SELECT count(*) FROM noorg_tasks AS t WHERE t.assigned_to = noorg_agents.agent_id AND t.state IN ('assigned', 'running')),
       status = CASE WHEN status = 'Busy' THEN 'Available' ELSE status END;
