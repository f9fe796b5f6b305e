-- The saga index is projected by the database: triggers on orleans_grain_state turn every write of a saga
-- coordinator's state (state name 'saga') into its noorg_sagas row inside the same statement, so a saga change is
-- one commit and the index can never be behind (or ahead of) the state. Times are Unix milliseconds, truncated.

-- A saga state row as index columns (only states that hold a saga); the saga id is the grain key.
CREATE VIEW noorg_saga_projection AS
SELECT s.rowid AS state_row,
       s.grain_id_string AS id,
       json_extract(s.payload, '$.Definition') AS definition,
       CASE coalesce(json_extract(s.payload, '$.Status'), 0)
            WHEN 0 THEN 'running' WHEN 1 THEN 'compensating' WHEN 2 THEN 'completed' WHEN 3 THEN 'compensated'
            WHEN 4 THEN 'cancelled' WHEN 5 THEN 'compensationfailed' END AS status,
       json_extract(s.payload, '$.FailedStep') AS failed_step,
       (CAST(strftime('%s', json_extract(s.payload, '$.CreatedAt')) AS INTEGER) * 1000 + CAST(substr(substr(replace(replace(substr(json_extract(s.payload, '$.CreatedAt'), 20), '+00:00', ''), 'Z', ''), 2) || '000', 1, 3) AS INTEGER)) AS created_at,
       (CAST(strftime('%s', json_extract(s.payload, '$.UpdatedAt')) AS INTEGER) * 1000 + CAST(substr(substr(replace(replace(substr(json_extract(s.payload, '$.UpdatedAt'), 20), '+00:00', ''), 'Z', ''), 2) || '000', 1, 3) AS INTEGER)) AS updated_at,
       (CAST(strftime('%s', json_extract(s.payload, '$.FinishedAt')) AS INTEGER) * 1000 + CAST(substr(substr(replace(replace(substr(json_extract(s.payload, '$.FinishedAt'), 20), '+00:00', ''), 'Z', ''), 2) || '000', 1, 3) AS INTEGER)) AS finished_at,
       ((CAST(strftime('%s', json_extract(s.payload, '$.FinishedAt')) AS INTEGER) * 1000000 + CAST(substr(substr(replace(replace(substr(json_extract(s.payload, '$.FinishedAt'), 20), '+00:00', ''), 'Z', ''), 2) || '000000', 1, 6) AS INTEGER)) - (CAST(strftime('%s', json_extract(s.payload, '$.CreatedAt')) AS INTEGER) * 1000000 + CAST(substr(substr(replace(replace(substr(json_extract(s.payload, '$.CreatedAt'), 20), '+00:00', ''), 'Z', ''), 2) || '000000', 1, 6) AS INTEGER))) / 1000 AS duration_ms,
       coalesce(json_extract(s.payload, '$.Version'), 0) AS version
  FROM orleans_grain_state AS s
 WHERE s.state_name = 'saga' AND json_extract(s.payload, '$.Definition') IS NOT NULL;

CREATE TRIGGER noorg_project_saga_insert AFTER INSERT ON orleans_grain_state
WHEN NEW.state_name = 'saga'
BEGIN
    DELETE FROM noorg_sagas
     WHERE id = NEW.grain_id_string AND NOT EXISTS (SELECT 1 FROM noorg_saga_projection WHERE state_row = NEW.rowid);
    INSERT INTO noorg_sagas (id, definition, status, failed_step, created_at, updated_at, finished_at, duration_ms, version)
    SELECT id, definition, status, failed_step, created_at, updated_at, finished_at, duration_ms, version FROM noorg_saga_projection WHERE state_row = NEW.rowid
    ON CONFLICT (id) DO UPDATE
       SET definition = excluded.definition, status = excluded.status, failed_step = excluded.failed_step,
           created_at = excluded.created_at, updated_at = excluded.updated_at, finished_at = excluded.finished_at,
           duration_ms = excluded.duration_ms, version = excluded.version;
END;

CREATE TRIGGER noorg_project_saga_update AFTER UPDATE OF payload ON orleans_grain_state
WHEN NEW.state_name = 'saga'
BEGIN
    DELETE FROM noorg_sagas
     WHERE id = NEW.grain_id_string AND NOT EXISTS (SELECT 1 FROM noorg_saga_projection WHERE state_row = NEW.rowid);
    INSERT INTO noorg_sagas (id, definition, status, failed_step, created_at, updated_at, finished_at, duration_ms, version)
    SELECT id, definition, status, failed_step, created_at, updated_at, finished_at, duration_ms, version FROM noorg_saga_projection WHERE state_row = NEW.rowid
    ON CONFLICT (id) DO UPDATE
       SET definition = excluded.definition, status = excluded.status, failed_step = excluded.failed_step,
           created_at = excluded.created_at, updated_at = excluded.updated_at, finished_at = excluded.finished_at,
           duration_ms = excluded.duration_ms, version = excluded.version;
END;

CREATE TRIGGER noorg_project_saga_delete AFTER DELETE ON orleans_grain_state
WHEN OLD.state_name = 'saga'
BEGIN
    DELETE FROM noorg_sagas WHERE id = OLD.grain_id_string;
END;

-- Rebuild the index from the stored states once, so it starts exactly equal to them.
DELETE FROM noorg_sagas;

INSERT INTO noorg_sagas (id, definition, status, failed_step, created_at, updated_at, finished_at, duration_ms, version)
SELECT id, definition, status, failed_step, created_at, updated_at, finished_at, duration_ms, version FROM noorg_saga_projection;
