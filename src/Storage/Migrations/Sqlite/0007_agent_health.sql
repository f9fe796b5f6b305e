-- Agent health monitoring (src/Grains/Health). The agent index gains the health its monitor decided, so dispatch
-- filters unhealthy agents and prefers healthy ones in the same candidates query. noorg_agent_health is the
-- aggregate each monitor projects into (the cluster report reads it, never the agents); noorg_health_issues keeps
-- every issue, open and resolved. Timestamps are the text Microsoft.Data.Sqlite writes for a DateTimeOffset.

ALTER TABLE noorg_agents ADD COLUMN health TEXT NOT NULL DEFAULT 'Healthy'
    CHECK (health IN ('Healthy', 'Degraded', 'Unhealthy'));

-- version is the monitor's own counter: a projection lands only if newer than the row.
CREATE TABLE noorg_agent_health (
    agent_id             TEXT    NOT NULL PRIMARY KEY,
    status               TEXT    NOT NULL CHECK (status IN ('Healthy', 'Degraded', 'Unhealthy')),
    reasons              TEXT    NOT NULL CHECK (json_valid(reasons)),
    failing_checks       TEXT    NOT NULL CHECK (json_valid(failing_checks)),
    uptime               REAL    NOT NULL,
    success_rate         REAL    NULL,
    error_rate           REAL    NULL,
    median_ms            INTEGER NULL,
    p95_ms               INTEGER NULL,
    samples              INTEGER NOT NULL,
    last_heartbeat_at    TEXT    NULL,
    consecutive_failures INTEGER NOT NULL,
    checked_at           TEXT    NOT NULL,
    version              INTEGER NOT NULL
);

CREATE INDEX ix_noorg_agent_health_status ON noorg_agent_health (status, agent_id);

CREATE TABLE noorg_health_issues (
    issue_id    TEXT    NOT NULL PRIMARY KEY,
    agent_id    TEXT    NOT NULL,
    check_name  TEXT    NOT NULL,
    severity    TEXT    NOT NULL CHECK (severity IN ('Healthy', 'Degraded', 'Unhealthy')),
    state       TEXT    NOT NULL CHECK (state IN ('Open', 'Resolved')),
    detail      TEXT    NOT NULL,
    occurrences INTEGER NOT NULL,
    opened_at   TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    resolved_at TEXT    NULL,
    resolved_by TEXT    NULL,
    note        TEXT    NULL
) WITHOUT ROWID;

-- Listing open (or all) issues newest first, and one agent's issues.
CREATE INDEX ix_noorg_health_issues_state ON noorg_health_issues (state, opened_at DESC, issue_id);
CREATE INDEX ix_noorg_health_issues_opened ON noorg_health_issues (opened_at DESC, issue_id);
CREATE INDEX ix_noorg_health_issues_agent ON noorg_health_issues (agent_id);
