-- Agent health monitoring (src/Grains/Health). The agent index gains the health its monitor decided, so dispatch
-- filters unhealthy agents and prefers healthy ones in the same candidates query. noorg_agent_health is the
-- aggregate each monitor projects into (the cluster report reads it, never the agents); noorg_health_issues keeps
-- every issue, open and resolved.

ALTER TABLE noorg_agents ADD COLUMN health text NOT NULL DEFAULT 'Healthy'
    CHECK (health IN ('Healthy', 'Degraded', 'Unhealthy'));

-- version is the monitor's own counter: a projection lands only if newer than the row.
CREATE TABLE noorg_agent_health (
    agent_id             text COLLATE "C" NOT NULL PRIMARY KEY,
    status               text             NOT NULL CHECK (status IN ('Healthy', 'Degraded', 'Unhealthy')),
    reasons              text             NOT NULL,
    failing_checks       text             NOT NULL,
    uptime               double precision NOT NULL,
    success_rate         double precision NULL,
    error_rate           double precision NULL,
    median_ms            bigint           NULL,
    p95_ms               bigint           NULL,
    samples              integer          NOT NULL,
    last_heartbeat_at    timestamptz      NULL,
    consecutive_failures integer          NOT NULL,
    checked_at           timestamptz      NOT NULL,
    version              bigint           NOT NULL
);

CREATE INDEX ix_noorg_agent_health_status ON noorg_agent_health (status, agent_id);

CREATE TABLE noorg_health_issues (
    issue_id    text COLLATE "C" NOT NULL PRIMARY KEY,
    agent_id    text COLLATE "C" NOT NULL,
    check_name  text             NOT NULL,
    severity    text             NOT NULL CHECK (severity IN ('Healthy', 'Degraded', 'Unhealthy')),
    state       text             NOT NULL CHECK (state IN ('Open', 'Resolved')),
    detail      text             NOT NULL,
    occurrences integer          NOT NULL,
    opened_at   timestamptz      NOT NULL,
    updated_at  timestamptz      NOT NULL,
    resolved_at timestamptz      NULL,
    resolved_by text             NULL,
    note        text             NULL
);

-- Listing open (or all) issues newest first, and one agent's issues.
CREATE INDEX ix_noorg_health_issues_state ON noorg_health_issues (state, opened_at DESC, issue_id);
CREATE INDEX ix_noorg_health_issues_opened ON noorg_health_issues (opened_at DESC, issue_id);
CREATE INDEX ix_noorg_health_issues_agent ON noorg_health_issues (agent_id);
