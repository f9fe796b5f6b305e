-- Retention (docs/retention.md): when each kind of data was last cleaned and how much went, and the indexes the
-- clean-up reads, so a run costs what it removes rather than a scan of what stays.

CREATE TABLE noorg_retention_runs (
    kind          TEXT    NOT NULL PRIMARY KEY,
    last_run_at   TEXT    NOT NULL,
    removed       INTEGER NOT NULL,
    removed_total INTEGER NOT NULL
) WITHOUT ROWID;

-- A saga is removed with its step and compensation states (keys '{saga id}:{step id}', found by key range) in one
-- statement, and a purged task's cleared state row by its key. SQLite updates leave an index on unchanged columns
-- alone, so this costs one entry per state row, written once.
CREATE INDEX ix_orleans_grain_state_name_key ON orleans_grain_state (state_name, grain_id_string);

CREATE INDEX ix_noorg_health_issues_resolved ON noorg_health_issues (resolved_at) WHERE state = 'Resolved';

CREATE INDEX ix_noorg_outbox_dead_age ON noorg_outbox (service_id, updated_at) WHERE dead = 1;
