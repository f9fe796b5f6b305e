-- The agent registry's index (IAgentIndex, src/Grains/Indexing/SqlAgentIndex.cs): a row per registered agent,
-- projected by its grain after every change, and a row per (capability, agent), so "agents with every one of
-- these capabilities" reads only the rows of the requested capabilities.
--
-- version is the agent grain's snapshot version: a projection lands only if it is newer than the row, so a late
-- or repeated one changes nothing. capabilities is the JSON array as registered. Timestamps are the text
-- Microsoft.Data.Sqlite writes for a DateTimeOffset.
CREATE TABLE noorg_agents (
    agent_id          TEXT    NOT NULL PRIMARY KEY,
    name              TEXT    NOT NULL,
    agent_type        TEXT    NOT NULL,
    status            TEXT    NOT NULL
                      CHECK (status IN ('Available', 'Busy', 'Draining', 'Offline', 'Error')),
    status_reason     TEXT    NULL,
    capabilities      TEXT    NOT NULL CHECK (json_valid(capabilities)),
    active_tasks      INTEGER NOT NULL CHECK (active_tasks >= 0),
    max_concurrent    INTEGER NOT NULL CHECK (max_concurrent > 0),
    last_heartbeat_at TEXT    NULL,
    registered_at     TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    version           INTEGER NOT NULL
);

-- Listing by status (ordered by id) and counting by type and status.
CREATE INDEX ix_noorg_agents_status ON noorg_agents (status, agent_id);
CREATE INDEX ix_noorg_agents_type ON noorg_agents (agent_type, status);

-- The cascade applies only where foreign keys are enabled; the index deletes capability rows itself.
CREATE TABLE noorg_agent_capabilities (
    capability TEXT NOT NULL,
    agent_id   TEXT NOT NULL REFERENCES noorg_agents (agent_id) ON DELETE CASCADE,
    PRIMARY KEY (capability, agent_id)
) WITHOUT ROWID;

-- Replacing one agent's capabilities.
CREATE INDEX ix_noorg_agent_capabilities_agent ON noorg_agent_capabilities (agent_id);
