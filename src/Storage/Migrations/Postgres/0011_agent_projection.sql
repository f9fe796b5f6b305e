-- The agent registry index is projected by the database: a trigger on orleans_grain_state turns every write of
-- an agent grain's state (state name 'agent') into its noorg_agents row and its capability rows, inside the same
-- statement. An agent change is one commit, and the index can never be behind (or ahead of) the state.
--
-- The trigger reads the System.Text.Json state as the grain writes it (AgentState: PascalCase names, enums as
-- numbers, nulls omitted). A state without a registration (an unregistered agent's tombstone, or a cleared
-- state) removes the agent from the index.

-- An agent state as its index row; the agent id is the grain key.
CREATE FUNCTION noorg_agent_row(aid text, agent jsonb) RETURNS noorg_agents
LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$
    SELECT aid,
           agent -> 'Registration' ->> 'Name',
           agent -> 'Registration' ->> 'Type',
           (ARRAY['Available', 'Busy', 'Draining', 'Offline', 'Error'])[coalesce((agent ->> 'Status')::int, 0) + 1],
           agent ->> 'StatusReason',
           coalesce((agent -> 'Registration' -> 'Capabilities')::text, '[]'),
           coalesce(jsonb_array_length(agent -> 'ActiveTaskIds'), 0),
           (agent -> 'Registration' ->> 'MaxConcurrentTasks')::int,
           noorg_json_time(agent ->> 'LastHeartbeatAt'),
           noorg_json_time(agent ->> 'RegisteredAt'),
           noorg_json_time(agent ->> 'UpdatedAt'),
           coalesce((agent ->> 'Version')::bigint, 0),
           (ARRAY['Healthy', 'Degraded', 'Unhealthy'])[coalesce((agent ->> 'Health')::int, 0) + 1]
$fn$;

CREATE FUNCTION noorg_project_agent() RETURNS trigger
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
           active_tasks = excluded.active_tasks, max_concurrent = excluded.max_concurrent,
           last_heartbeat_at = excluded.last_heartbeat_at, registered_at = excluded.registered_at,
           updated_at = excluded.updated_at, version = excluded.version, health = excluded.health
     WHERE (noorg_agents.*) IS DISTINCT FROM (excluded.*);

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

CREATE TRIGGER noorg_project_agent_write
AFTER INSERT OR UPDATE OF payload ON orleans_grain_state
FOR EACH ROW WHEN (NEW.state_name = 'agent')
EXECUTE FUNCTION noorg_project_agent();

CREATE TRIGGER noorg_project_agent_delete
AFTER DELETE ON orleans_grain_state
FOR EACH ROW WHEN (OLD.state_name = 'agent')
EXECUTE FUNCTION noorg_project_agent();

-- Rebuild the index from the stored states once, so it starts exactly equal to them.
DELETE FROM noorg_agents;

INSERT INTO noorg_agents
SELECT r.*
  FROM orleans_grain_state AS s
 CROSS JOIN LATERAL noorg_agent_row(s.grain_id_string, s.payload) AS r
 WHERE s.state_name = 'agent' AND jsonb_typeof(s.payload -> 'Registration') = 'object';

INSERT INTO noorg_agent_capabilities (capability, agent_id)
SELECT DISTINCT capability, s.grain_id_string
  FROM orleans_grain_state AS s
 CROSS JOIN LATERAL jsonb_array_elements_text(s.payload -> 'Registration' -> 'Capabilities') AS capability
 WHERE s.state_name = 'agent' AND jsonb_typeof(s.payload -> 'Registration') = 'object';
