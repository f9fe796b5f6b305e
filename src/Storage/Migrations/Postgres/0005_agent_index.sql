-- The agent registry's index (IAgentIndex, src/Grains/Indexing/SqlAgentIndex.cs): a row per registered agent,
-- projected by its grain after every change, and a row per (capability, agent), so "agents with every one of
-- these capabilities" reads only the rows of the requested capabilities.
--
-- version is the agent grain's snapshot version: a projection lands only if it is newer than the row, so a late
-- or repeated one changes nothing. Identifiers use the "C" collation: byte order, as the code compares them.

-- Heartbeats update only unindexed columns; free space on each page lets those updates stay HOT.
CREATE TABLE noorg_agents (
    agent_id          text COLLATE "C" NOT NULL PRIMARY KEY,
    name              text             NOT NULL,
    agent_type        text COLLATE "C" NOT NULL,
    status            text             NOT NULL
                      CHECK (status IN ('Available', 'Busy', 'Draining', 'Offline', 'Error')),
    status_reason     text             NULL,
    capabilities      text             NOT NULL,
    active_tasks      integer          NOT NULL CHECK (active_tasks >= 0),
    max_concurrent    integer          NOT NULL CHECK (max_concurrent > 0),
    last_heartbeat_at timestamptz      NULL,
    registered_at     timestamptz      NOT NULL,
    updated_at        timestamptz      NOT NULL,
    version           bigint           NOT NULL
) WITH (fillfactor = 90);

COMMENT ON TABLE noorg_agents IS
    'Agent registry index, projected from agent grain state. capabilities is the JSON array as registered.';

-- Listing by status (ordered by id) and counting by type and status.
CREATE INDEX ix_noorg_agents_status ON noorg_agents (status, agent_id);
CREATE INDEX ix_noorg_agents_type ON noorg_agents (agent_type, status);

CREATE TABLE noorg_agent_capabilities (
    capability text COLLATE "C" NOT NULL,
    agent_id   text COLLATE "C" NOT NULL REFERENCES noorg_agents (agent_id) ON DELETE CASCADE,
    PRIMARY KEY (capability, agent_id)
);

-- Replacing one agent's capabilities, and the cascade.
CREATE INDEX ix_noorg_agent_capabilities_agent ON noorg_agent_capabilities (agent_id);
