-- Grain state for AddAdoNetGrainStorage, kept as jsonb so operators can read and query it with SQL.
--
-- What the provider passes to identify a state: @ServiceId, @GrainTypeString (despite its name, the state name
-- given to [PersistentState]; the grain type itself is not passed), and the grain key as @GrainIdN0/@GrainIdN1
-- (integer and Guid keys) plus @GrainIdExtensionString (string keys, or the extension of compound keys).
-- grain_key_digest folds these into 32 bytes: a compact unique key for millions of rows, whatever the key length.

CREATE FUNCTION noorg_grain_key_digest(service_id text, state_name text, n0 bigint, n1 bigint, id_string text)
RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$
    -- Length prefixes keep the encoding unambiguous; '-' marks an absent string part, distinct from ''.
    SELECT sha256(convert_to(
        length(service_id) || ':' || service_id || '|' ||
        length(state_name) || ':' || state_name || '|' ||
        n0 || '|' || n1 || '|' ||
        coalesce(length(id_string) || ':' || id_string, '-'),
        'UTF8'))
$fn$;

-- Updates change no indexed column, so free space on each page lets them stay HOT (no index churn).
CREATE TABLE orleans_grain_state (
    grain_key_digest bytea       NOT NULL PRIMARY KEY,
    service_id       text        NOT NULL,
    state_name       text        NOT NULL,
    grain_id_n0      bigint      NOT NULL,
    grain_id_n1      bigint      NOT NULL,
    grain_id_string  text        NULL,
    payload          jsonb       NULL,
    version          integer     NOT NULL,
    modified_at      timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 90);

COMMENT ON TABLE orleans_grain_state IS
    'Orleans grain state (AddAdoNetGrainStorage). payload is the System.Text.Json state; NULL after ClearStateAsync.';

-- The provider passes the state as UTF-8 JSON bytes and reads it back as bytes from column PayloadBinary.
-- Versions are the optimistic-concurrency ETag: every query returns exactly one row, and a NULL version
-- tells the provider the write lost a race, which it raises as InconsistentStateException.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', $q$
SELECT convert_to(payload::text, 'UTF8') AS "PayloadBinary",
       version AS "Version"
FROM orleans_grain_state
WHERE grain_key_digest = noorg_grain_key_digest(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString)
$q$),

-- A known version updates that exact version; no version inserts a new row. Anything else yields NULL.
('WriteToStorageKey', $q$
WITH target AS (
    SELECT noorg_grain_key_digest(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString) AS digest
),
updated AS (
    UPDATE orleans_grain_state AS s
       SET payload = convert_from(@PayloadBinary, 'UTF8')::jsonb,
           version = s.version + 1,
           modified_at = now()
      FROM target
     WHERE @GrainStateVersion IS NOT NULL
       AND s.grain_key_digest = target.digest
       AND s.version = @GrainStateVersion
    RETURNING s.version
),
inserted AS (
    INSERT INTO orleans_grain_state
        (grain_key_digest, service_id, state_name, grain_id_n0, grain_id_n1, grain_id_string, payload, version)
    SELECT target.digest, @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString,
           convert_from(@PayloadBinary, 'UTF8')::jsonb, 1
      FROM target
     WHERE @GrainStateVersion IS NULL
    ON CONFLICT (grain_key_digest) DO NOTHING
    RETURNING version
)
SELECT (SELECT version FROM updated UNION ALL SELECT version FROM inserted) AS "NewGrainStateVersion"
$q$),

-- ClearStateAsync keeps the row (and its version history) with a NULL payload.
('ClearStorageKey', $q$
WITH cleared AS (
    UPDATE orleans_grain_state
       SET payload = NULL,
           version = version + 1,
           modified_at = now()
     WHERE grain_key_digest = noorg_grain_key_digest(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString)
       AND version = @GrainStateVersion
    RETURNING version
)
SELECT (SELECT version FROM cleared) AS "NewGrainStateVersion"
$q$),

-- Used instead of ClearStorageKey when AdoNetGrainStorageOptions.DeleteStateOnClear is set. The provider
-- treats a returned version equal to the one it sent as a conflict, so report the next one.
('DeleteStorageKey', $q$
WITH deleted AS (
    DELETE FROM orleans_grain_state
     WHERE grain_key_digest = noorg_grain_key_digest(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString)
       AND version = @GrainStateVersion
    RETURNING version
)
SELECT (SELECT version + 1 FROM deleted) AS "NewGrainStateVersion"
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
