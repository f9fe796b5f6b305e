-- Retention (docs/retention.md): when each kind of data was last cleaned and how much went, and the indexes the
-- clean-up reads, so a run costs what it removes rather than a scan of what stays.

CREATE TABLE noorg_retention_runs (
    kind          text COLLATE "C" NOT NULL PRIMARY KEY,
    last_run_at   timestamptz      NOT NULL,
    removed       bigint           NOT NULL,
    removed_total bigint           NOT NULL
);

COMMENT ON TABLE noorg_retention_runs IS
    'One row per kind of data retention cleans: its last run, what that run removed and the total ever removed.';

-- A saga is removed with its step and compensation states (keys '{saga id}:{step id}', found by key range) in one
-- statement; the saga's own row is found through the same index.
CREATE INDEX ix_orleans_grain_state_sagas ON orleans_grain_state (state_name, grain_id_string COLLATE "C")
    WHERE state_name IN ('saga', 'saga-step', 'saga-compensation');

CREATE INDEX ix_noorg_health_issues_resolved ON noorg_health_issues (resolved_at) WHERE state = 'Resolved';

CREATE INDEX ix_noorg_outbox_dead_age ON noorg_outbox (service_id, updated_at) WHERE dead;
