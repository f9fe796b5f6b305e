-- An agent's history as append-only rows. The agent state carries only the events of the change it was written
-- for (payload.NewEvents); a trigger appends them here inside the same statement, so a change and its history
-- commit together, nothing rewrites earlier entries, and the separate 'agent-history' state (a second commit per
-- change) is gone. Only the newest payload.HistoryLimit events per agent are kept; a state without a registration
-- (unregistered) removes the agent's history.

CREATE TABLE noorg_agent_events (
    agent_id text COLLATE "C" NOT NULL,
    sequence bigint           NOT NULL,
    event    jsonb            NOT NULL,
    PRIMARY KEY (agent_id, sequence)
);

COMMENT ON TABLE noorg_agent_events IS
    'Agent history: one row per AgentEvent (System.Text.Json), appended from the agent state write.';

CREATE FUNCTION noorg_append_agent_events() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM noorg_agent_events WHERE agent_id = OLD.grain_id_string;
        RETURN NULL;
    END IF;

    IF NOT coalesce(jsonb_typeof(NEW.payload -> 'Registration') = 'object', false) THEN
        DELETE FROM noorg_agent_events WHERE agent_id = NEW.grain_id_string;
        RETURN NULL;
    END IF;

    IF jsonb_typeof(NEW.payload -> 'NewEvents') = 'array' AND jsonb_array_length(NEW.payload -> 'NewEvents') > 0 THEN
        -- A state written again without a new change repeats its events: they are already here.
        INSERT INTO noorg_agent_events (agent_id, sequence, event)
        SELECT NEW.grain_id_string, (e ->> 'Sequence')::bigint, e FROM jsonb_array_elements(NEW.payload -> 'NewEvents') AS e
        ON CONFLICT DO NOTHING;
        DELETE FROM noorg_agent_events
         WHERE agent_id = NEW.grain_id_string
           AND sequence <= coalesce((NEW.payload ->> 'EventCount')::bigint, 0) - coalesce(nullif((NEW.payload ->> 'HistoryLimit')::bigint, 0), 500);
    END IF;

    RETURN NULL;
END
$fn$;

CREATE TRIGGER noorg_append_agent_events_insert
AFTER INSERT ON orleans_grain_state
FOR EACH ROW WHEN (NEW.state_name = 'agent')
EXECUTE FUNCTION noorg_append_agent_events();

-- A write that repeats the last change's events (a quiet flag, a heartbeat without detail) has nothing to append.
CREATE TRIGGER noorg_append_agent_events_update
AFTER UPDATE OF payload ON orleans_grain_state
FOR EACH ROW WHEN (NEW.state_name = 'agent' AND (OLD.payload -> 'NewEvents' IS DISTINCT FROM NEW.payload -> 'NewEvents' OR jsonb_typeof(NEW.payload -> 'Registration') IS DISTINCT FROM 'object'))
EXECUTE FUNCTION noorg_append_agent_events();

CREATE TRIGGER noorg_append_agent_events_delete
AFTER DELETE ON orleans_grain_state
FOR EACH ROW WHEN (OLD.state_name = 'agent')
EXECUTE FUNCTION noorg_append_agent_events();

-- Move the histories kept in the old 'agent-history' states (payload.Count, payload.Recent) into the rows, and
-- give each registered agent's state its event count, so sequence numbers go on where they were.
INSERT INTO noorg_agent_events (agent_id, sequence, event)
SELECT h.grain_id_string, (e ->> 'Sequence')::bigint, e
  FROM orleans_grain_state AS h
  JOIN orleans_grain_state AS a
    ON a.state_name = 'agent' AND a.service_id = h.service_id AND a.grain_id_string = h.grain_id_string
 CROSS JOIN LATERAL jsonb_array_elements(h.payload -> 'Recent') AS e
 WHERE h.state_name = 'agent-history' AND jsonb_typeof(h.payload -> 'Recent') = 'array'
   AND jsonb_typeof(a.payload -> 'Registration') = 'object'
ON CONFLICT DO NOTHING;

UPDATE orleans_grain_state AS a
   SET payload = jsonb_set(a.payload, '{EventCount}', h.payload -> 'Count')
  FROM orleans_grain_state AS h
 WHERE a.state_name = 'agent' AND h.state_name = 'agent-history'
   AND h.service_id = a.service_id AND h.grain_id_string = a.grain_id_string
   AND jsonb_typeof(a.payload -> 'Registration') = 'object' AND h.payload ? 'Count';

DELETE FROM orleans_grain_state WHERE state_name = 'agent-history';
