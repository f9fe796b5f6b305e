-- An agent's history as append-only rows. The agent state carries only the events of the change it was written
-- for ($.NewEvents); triggers append them here inside the same statement, so a change and its history commit
-- together, nothing rewrites earlier entries, and the separate 'agent-history' state (a second commit per change)
-- is gone. Only the newest $.HistoryLimit events per agent are kept; a state without a registration
-- (unregistered) removes the agent's history.

CREATE TABLE noorg_agent_events (
    agent_id TEXT    NOT NULL,
    sequence INTEGER NOT NULL,
    event    TEXT    NOT NULL CHECK (json_valid(event)),
    PRIMARY KEY (agent_id, sequence)
) WITHOUT ROWID;

-- A state written again without a new change repeats its events: they are already here (an upsert clause, not
-- INSERT OR IGNORE, which the grain-state upsert that fires the trigger would override).
CREATE TRIGGER noorg_append_agent_events_insert AFTER INSERT ON orleans_grain_state
WHEN NEW.state_name = 'agent'
BEGIN
    DELETE FROM noorg_agent_events
     WHERE agent_id = NEW.grain_id_string AND json_type(NEW.payload, '$.Registration') IS NOT 'object';
    INSERT INTO noorg_agent_events (agent_id, sequence, event)
    SELECT NEW.grain_id_string, json_extract(e.value, '$.Sequence'), e.value FROM json_each(NEW.payload, '$.NewEvents') AS e
     WHERE json_type(NEW.payload, '$.Registration') = 'object'
    ON CONFLICT DO NOTHING;
    DELETE FROM noorg_agent_events
     WHERE agent_id = NEW.grain_id_string AND json_array_length(NEW.payload, '$.NewEvents') > 0
       AND sequence <= coalesce(json_extract(NEW.payload, '$.EventCount'), 0) - coalesce(nullif(json_extract(NEW.payload, '$.HistoryLimit'), 0), 500);
END;

-- A write that leaves this part of the state as it was (an outbox clean-up, a quiet flag) does nothing here.
CREATE TRIGGER noorg_append_agent_events_update AFTER UPDATE OF payload ON orleans_grain_state
WHEN NEW.state_name = 'agent' AND (json_extract(OLD.payload, '$.NewEvents') IS NOT json_extract(NEW.payload, '$.NewEvents') OR json_type(NEW.payload, '$.Registration') IS NOT 'object')
BEGIN
    DELETE FROM noorg_agent_events
     WHERE agent_id = NEW.grain_id_string AND json_type(NEW.payload, '$.Registration') IS NOT 'object';
    INSERT INTO noorg_agent_events (agent_id, sequence, event)
    SELECT NEW.grain_id_string, json_extract(e.value, '$.Sequence'), e.value FROM json_each(NEW.payload, '$.NewEvents') AS e
     WHERE json_type(NEW.payload, '$.Registration') = 'object'
    ON CONFLICT DO NOTHING;
    DELETE FROM noorg_agent_events
     WHERE agent_id = NEW.grain_id_string AND json_array_length(NEW.payload, '$.NewEvents') > 0
       AND sequence <= coalesce(json_extract(NEW.payload, '$.EventCount'), 0) - coalesce(nullif(json_extract(NEW.payload, '$.HistoryLimit'), 0), 500);
END;

CREATE TRIGGER noorg_append_agent_events_delete AFTER DELETE ON orleans_grain_state
WHEN OLD.state_name = 'agent'
BEGIN
    DELETE FROM noorg_agent_events WHERE agent_id = OLD.grain_id_string;
END;

-- Move the histories kept in the old 'agent-history' states ($.Count, $.Recent) into the rows, and give each
-- registered agent's state its event count, so sequence numbers go on where they were.
INSERT INTO noorg_agent_events (agent_id, sequence, event)
SELECT h.grain_id_string, json_extract(e.value, '$.Sequence'), e.value
  FROM orleans_grain_state AS h
  JOIN orleans_grain_state AS a
    ON a.state_name = 'agent' AND a.service_id = h.service_id AND a.grain_id_string = h.grain_id_string
  JOIN json_each(h.payload, '$.Recent') AS e
 WHERE h.state_name = 'agent-history' AND json_type(a.payload, '$.Registration') = 'object'
ON CONFLICT DO NOTHING;

UPDATE orleans_grain_state AS a
   SET payload = json_set(a.payload, '$.EventCount', json_extract(h.payload, '$.Count'))
  FROM orleans_grain_state AS h
 WHERE a.state_name = 'agent' AND h.state_name = 'agent-history'
   AND h.service_id = a.service_id AND h.grain_id_string = a.grain_id_string
   AND json_type(a.payload, '$.Registration') = 'object' AND json_extract(h.payload, '$.Count') IS NOT NULL;

DELETE FROM orleans_grain_state WHERE state_name = 'agent-history';
