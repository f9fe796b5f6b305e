-- Agent counts and discovery totals from maintained counters, so they cost the same for ten agents or a million.
-- Until now "agents by type and status" grouped every row of noorg_agents, and "how many agents have capability C"
-- counted every match. Triggers on the index tables keep two counters in the same statement as the row they count:
-- agents by type and listed status (Busy is an accepting agent at capacity, as SqlAgentIndex lists it), and agents
-- by capability. SQLite has one writer at a time, so each count is one row (slot 0).

CREATE TABLE noorg_agent_counts (
    agent_type TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    slot       INTEGER NOT NULL,
    tally      INTEGER NOT NULL,
    PRIMARY KEY (agent_type, status, slot)
);

CREATE TABLE noorg_agent_capability_counts (
    capability TEXT    NOT NULL,
    slot       INTEGER NOT NULL,
    tally      INTEGER NOT NULL,
    PRIMARY KEY (capability, slot)
);

CREATE TRIGGER noorg_count_agents_insert AFTER INSERT ON noorg_agents
BEGIN
    INSERT INTO noorg_agent_counts (agent_type, status, slot, tally)
    SELECT NEW.agent_type,
           CASE WHEN NEW.status IN ('Available', 'Busy')
                THEN CASE WHEN NEW.active_tasks >= NEW.max_concurrent THEN 'Busy' ELSE 'Available' END
                ELSE NEW.status END,
           0, 1
     WHERE true
    ON CONFLICT (agent_type, status, slot) DO UPDATE SET tally = tally + excluded.tally;
END;

-- A heartbeat or a load change that leaves the agent's listed status alone costs the WHEN, nothing more.
CREATE TRIGGER noorg_count_agents_update AFTER UPDATE ON noorg_agents
WHEN OLD.agent_type IS NOT NEW.agent_type
  OR (CASE WHEN OLD.status IN ('Available', 'Busy')
           THEN CASE WHEN OLD.active_tasks >= OLD.max_concurrent THEN 'Busy' ELSE 'Available' END
           ELSE OLD.status END)
     IS NOT
     (CASE WHEN NEW.status IN ('Available', 'Busy')
           THEN CASE WHEN NEW.active_tasks >= NEW.max_concurrent THEN 'Busy' ELSE 'Available' END
           ELSE NEW.status END)
BEGIN
    INSERT INTO noorg_agent_counts (agent_type, status, slot, tally)
    SELECT OLD.agent_type,
           CASE WHEN OLD.status IN ('Available', 'Busy')
                THEN CASE WHEN OLD.active_tasks >= OLD.max_concurrent THEN 'Busy' ELSE 'Available' END
                ELSE OLD.status END,
           0, -1
     WHERE true
    ON CONFLICT (agent_type, status, slot) DO UPDATE SET tally = tally + excluded.tally;
    INSERT INTO noorg_agent_counts (agent_type, status, slot, tally)
    SELECT NEW.agent_type,
           CASE WHEN NEW.status IN ('Available', 'Busy')
                THEN CASE WHEN NEW.active_tasks >= NEW.max_concurrent THEN 'Busy' ELSE 'Available' END
                ELSE NEW.status END,
           0, 1
     WHERE true
    ON CONFLICT (agent_type, status, slot) DO UPDATE SET tally = tally + excluded.tally;
END;

CREATE TRIGGER noorg_count_agents_delete AFTER DELETE ON noorg_agents
BEGIN
    INSERT INTO noorg_agent_counts (agent_type, status, slot, tally)
    SELECT OLD.agent_type,
           CASE WHEN OLD.status IN ('Available', 'Busy')
                THEN CASE WHEN OLD.active_tasks >= OLD.max_concurrent THEN 'Busy' ELSE 'Available' END
                ELSE OLD.status END,
           0, -1
     WHERE true
    ON CONFLICT (agent_type, status, slot) DO UPDATE SET tally = tally + excluded.tally;
END;

CREATE TRIGGER noorg_count_agent_capabilities_insert AFTER INSERT ON noorg_agent_capabilities
BEGIN
    INSERT INTO noorg_agent_capability_counts (capability, slot, tally) VALUES (NEW.capability, 0, 1)
    ON CONFLICT (capability, slot) DO UPDATE SET tally = tally + 1;
END;

CREATE TRIGGER noorg_count_agent_capabilities_delete AFTER DELETE ON noorg_agent_capabilities
BEGIN
    UPDATE noorg_agent_capability_counts SET tally = tally - 1 WHERE capability = OLD.capability AND slot = 0;
END;

INSERT INTO noorg_agent_counts (agent_type, status, slot, tally)
SELECT agent_type,
       CASE WHEN status IN ('Available', 'Busy')
            THEN CASE WHEN active_tasks >= max_concurrent THEN 'Busy' ELSE 'Available' END
            ELSE status END,
       0, count(*)
  FROM noorg_agents
 GROUP BY 1, 2;

INSERT INTO noorg_agent_capability_counts (capability, slot, tally)
SELECT capability, 0, count(*) FROM noorg_agent_capabilities GROUP BY capability;
