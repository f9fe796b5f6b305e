-- The saga read model behind ISagaIndex (src/Grains/Indexing/SqlSagaIndex.cs): one row per saga or compensation
-- scope, projected by its coordinator grain after every change, so listing and statistics never call saga grains.
-- The grain state stays the source of truth; a coordinator re-projects itself when it activates, and a row is only
-- replaced by a newer version.
--
-- status is the SagaStatus name in lower case. Times are milliseconds since the Unix epoch (UTC), the same in both
-- dialects; duration_ms is finished_at - created_at, set once the saga is terminal.
CREATE TABLE noorg_sagas (
    id          TEXT NOT NULL PRIMARY KEY,
    definition  TEXT NOT NULL,
    status      TEXT NOT NULL,
    failed_step TEXT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    finished_at INTEGER NULL,
    duration_ms INTEGER NULL,
    version     INTEGER NOT NULL
);

-- Listing pages newest first; each filter has an index that yields rows already in that order.
CREATE INDEX ix_noorg_sagas_created    ON noorg_sagas (created_at DESC, id);
CREATE INDEX ix_noorg_sagas_status     ON noorg_sagas (status, created_at DESC, id);
CREATE INDEX ix_noorg_sagas_definition ON noorg_sagas (definition, created_at DESC, id);

-- Statistics read the durations of the most recently finished sagas.
CREATE INDEX ix_noorg_sagas_finished   ON noorg_sagas (finished_at DESC) WHERE finished_at IS NOT NULL;
