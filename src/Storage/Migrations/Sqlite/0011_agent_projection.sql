-- The agent registry index is projected by the database: triggers on orleans_grain_state turn every write of an
-- agent grain's state (state name 'agent') into its noorg_agents row and its capability rows, inside the same
-- statement. An agent change is one commit, and the index can never be behind (or ahead of) the state.
--
-- The triggers read the System.Text.Json state as the grain writes it (AgentState: PascalCase names, enums as
-- numbers, nulls omitted). A state without a registration (an unregistered agent's tombstone, or a cleared
-- state) removes the agent from the index. Times are kept as the state holds them (ISO 8601, UTC).

-- An agent state row as index columns; the agent id is the grain key.
CREATE VIEW noorg_agent_projection AS
SELECT s.rowid AS state_row,
       s.grain_id_string AS agent_id,
       json_extract(s.payload, '$.Registration.Name') AS name,
       json_extract(s.payload, '$.Registration.Type') AS agent_type,
       CASE coalesce(json_extract(s.payload, '$.Status'), 0)
            WHEN 0 THEN 'Available' WHEN 1 THEN 'Busy' WHEN 2 THEN 'Draining' WHEN 3 THEN 'Offline' WHEN 4 THEN 'Error' END AS status,
       json_extract(s.payload, '$.StatusReason') AS status_reason,
       coalesce(json_extract(s.payload, '$.Registration.Capabilities'), '[]') AS capabilities,
       coalesce(json_array_length(s.payload, '$.ActiveTaskIds'), 0) AS active_tasks,
       json_extract(s.payload, '$.Registration.MaxConcurrentTasks') AS max_concurrent,
       json_extract(s.payload, '$.LastHeartbeatAt') AS last_heartbeat_at,
       json_extract(s.payload, '$.RegisteredAt') AS registered_at,
       json_extract(s.payload, '$.UpdatedAt') AS updated_at,
       coalesce(json_extract(s.payload, '$.Version'), 0) AS version,
       CASE coalesce(json_extract(s.payload, '$.Health'), 0) WHEN 0 THEN 'Healthy' WHEN 1 THEN 'Degraded' WHEN 2 THEN 'Unhealthy' END AS health
  FROM orleans_grain_state AS s
 WHERE s.state_name = 'agent' AND json_type(s.payload, '$.Registration') = 'object';

-- Heartbeats and load changes leave the capability rows alone: only a real change deletes or inserts one. (An
-- upsert clause, not INSERT OR IGNORE: the grain-state upsert that fires a trigger overrides OR-policies inside it.)
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
           active_tasks = excluded.active_tasks, max_concurrent = excluded.max_concurrent,
           last_heartbeat_at = excluded.last_heartbeat_at, registered_at = excluded.registered_at,
           updated_at = excluded.updated_at, version = excluded.version, health = excluded.health
     WHERE (noorg_agents.name, noorg_agents.agent_type, noorg_agents.status, noorg_agents.status_reason, noorg_agents.capabilities, noorg_agents.active_tasks, noorg_agents.max_concurrent, noorg_agents.last_heartbeat_at, noorg_agents.registered_at, noorg_agents.updated_at, noorg_agents.version, noorg_agents.health)
           IS NOT (excluded.name, excluded.agent_type, excluded.status, excluded.status_reason, excluded.capabilities, excluded.active_tasks, excluded.max_concurrent, excluded.last_heartbeat_at, excluded.registered_at, excluded.updated_at, excluded.version, excluded.health);
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
           active_tasks = excluded.active_tasks, max_concurrent = excluded.max_concurrent,
           last_heartbeat_at = excluded.last_heartbeat_at, registered_at = excluded.registered_at,
           updated_at = excluded.updated_at, version = excluded.version, health = excluded.health
     WHERE (noorg_agents.name, noorg_agents.agent_type, noorg_agents.status, noorg_agents.status_reason, noorg_agents.capabilities, noorg_agents.active_tasks, noorg_agents.max_concurrent, noorg_agents.last_heartbeat_at, noorg_agents.registered_at, noorg_agents.updated_at, noorg_agents.version, noorg_agents.health)
           IS NOT (excluded.name, excluded.agent_type, excluded.status, excluded.status_reason, excluded.capabilities, excluded.active_tasks, excluded.max_concurrent, excluded.last_heartbeat_at, excluded.registered_at, excluded.updated_at, excluded.version, excluded.health);
    INSERT INTO noorg_agent_capabilities (capability, agent_id)
    SELECT DISTINCT c.value, p.agent_id FROM noorg_agent_projection AS p, json_each(p.capabilities) AS c
     WHERE p.state_row = NEW.rowid
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER noorg_project_agent_delete AFTER DELETE ON orleans_grain_state
WHEN OLD.state_name = 'agent'
BEGIN
    DELETE FROM noorg_agent_capabilities WHERE agent_id = OLD.grain_id_string;
    DELETE FROM noorg_agents WHERE agent_id = OLD.grain_id_string;
END;

-- Rebuild the index from the stored states once, so it starts exactly equal to them.
DELETE FROM noorg_agent_capabilities;
DELETE FROM noorg_agents;

INSERT INTO noorg_agents (agent_id, name, agent_type, status, status_reason, capabilities, active_tasks, max_concurrent, last_heartbeat_at, registered_at, updated_at, version, health)
SELECT agent_id, name, agent_type, status, status_reason, capabilities, active_tasks, max_concurrent, last_heartbeat_at, registered_at, updated_at, version, health FROM noorg_agent_projection;

INSERT OR IGNORE INTO noorg_agent_capabilities (capability, agent_id)
SELECT DISTINCT c.value, p.agent_id FROM noorg_agent_projection AS p, json_each(p.capabilities) AS c;
