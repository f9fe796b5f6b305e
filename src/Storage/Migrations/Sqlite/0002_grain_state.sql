-- Grain state for AddAdoNetGrainStorage, kept as JSON text so it can be read with SQL (json_extract & co).
--
-- What the provider passes to identify a state: @ServiceId, @GrainTypeString (despite its name, the state name
-- given to [PersistentState]; the grain type itself is not passed), the grain key as @GrainIdN0/@GrainIdN1
-- (integer and Guid keys) plus @GrainIdExtensionString (string keys, or the extension of compound keys), and
-- two 32-bit hashes of them (@GrainIdHash, @GrainTypeHash) that lead the index.
CREATE TABLE orleans_grain_state (
    grain_id_hash   INTEGER NOT NULL,
    state_name_hash INTEGER NOT NULL,
    service_id      TEXT    NOT NULL,
    state_name      TEXT    NOT NULL,
    grain_id_n0     INTEGER NOT NULL,
    grain_id_n1     INTEGER NOT NULL,
    grain_id_string TEXT    NULL,
    payload         TEXT    NULL CHECK (payload IS NULL OR json_valid(payload)),
    version         INTEGER NOT NULL,
    modified_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- One row per state. NULLs are distinct in a SQLite unique index, so an absent string part is indexed as ''
-- and a present one with a '+' prefix.
CREATE UNIQUE INDEX ux_orleans_grain_state_key ON orleans_grain_state
    (grain_id_hash, state_name_hash, grain_id_n0, grain_id_n1, service_id, state_name, ifnull('+' || grain_id_string, ''));

-- The provider passes the state as UTF-8 JSON bytes and reads it back as bytes from column PayloadBinary.
-- Versions are the optimistic-concurrency ETag: every query returns exactly one row, and a NULL version
-- tells the provider the write lost a race, which it raises as InconsistentStateException.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', '
SELECT CAST(payload AS BLOB) AS PayloadBinary,
       version AS Version
FROM orleans_grain_state
WHERE grain_id_hash = @GrainIdHash AND state_name_hash = @GrainTypeHash
  AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
  AND service_id = @ServiceId AND state_name = @GrainTypeString
  AND grain_id_string IS @GrainIdExtensionString
'),

-- One upsert: no version inserts a new row; a known version updates that exact version (and never
-- resurrects a deleted row). The second statement turns "nothing written" into the NULL the provider expects.
('WriteToStorageKey', '
INSERT INTO orleans_grain_state
    (grain_id_hash, state_name_hash, service_id, state_name, grain_id_n0, grain_id_n1, grain_id_string, payload, version)
SELECT @GrainIdHash, @GrainTypeHash, @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString,
       CAST(@PayloadBinary AS TEXT), 1
WHERE @GrainStateVersion IS NULL
   OR EXISTS (
       SELECT 1 FROM orleans_grain_state
        WHERE grain_id_hash = @GrainIdHash AND state_name_hash = @GrainTypeHash
          AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
          AND service_id = @ServiceId AND state_name = @GrainTypeString
          AND grain_id_string IS @GrainIdExtensionString)
ON CONFLICT (grain_id_hash, state_name_hash, grain_id_n0, grain_id_n1, service_id, state_name, ifnull(''+'' || grain_id_string, ''''))
DO UPDATE SET payload = excluded.payload,
              version = orleans_grain_state.version + 1,
              modified_at = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')
        WHERE @GrainStateVersion IS NOT NULL AND orleans_grain_state.version = @GrainStateVersion
RETURNING version AS NewGrainStateVersion;
SELECT NULL AS NewGrainStateVersion WHERE changes() = 0;
'),

-- ClearStateAsync keeps the row (and its version history) with a NULL payload.
('ClearStorageKey', '
UPDATE orleans_grain_state
   SET payload = NULL,
       version = version + 1,
       modified_at = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')
 WHERE grain_id_hash = @GrainIdHash AND state_name_hash = @GrainTypeHash
   AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
   AND service_id = @ServiceId AND state_name = @GrainTypeString
   AND grain_id_string IS @GrainIdExtensionString
   AND version = @GrainStateVersion
RETURNING version AS NewGrainStateVersion;
SELECT NULL AS NewGrainStateVersion WHERE changes() = 0;
'),

-- Used instead of ClearStorageKey when AdoNetGrainStorageOptions.DeleteStateOnClear is set. The provider
-- treats a returned version equal to the one it sent as a conflict, so report the next one.
('DeleteStorageKey', '
DELETE FROM orleans_grain_state
 WHERE grain_id_hash = @GrainIdHash AND state_name_hash = @GrainTypeHash
   AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
   AND service_id = @ServiceId AND state_name = @GrainTypeString
   AND grain_id_string IS @GrainIdExtensionString
   AND version = @GrainStateVersion
RETURNING version + 1 AS NewGrainStateVersion;
SELECT NULL AS NewGrainStateVersion WHERE changes() = 0;
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
