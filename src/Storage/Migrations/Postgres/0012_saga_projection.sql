-- The saga index is projected by the database: a trigger on orleans_grain_state turns every write of a saga
-- coordinator's state (state name 'saga') into its noorg_sagas row inside the same statement, so a saga change is
-- one commit and the index can never be behind (or ahead of) the state. Times are Unix milliseconds, truncated.

CREATE FUNCTION noorg_json_unix_ms(value text) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$
    SELECT (extract(epoch FROM date_trunc('milliseconds', noorg_json_time(value))) * 1000)::bigint
$fn$;

-- A saga state as its index row (null when the state holds no saga); the saga id is the grain key.
CREATE FUNCTION noorg_saga_row(sid text, saga jsonb) RETURNS noorg_sagas
LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$
    SELECT sid,
           saga ->> 'Definition',
           lower((ARRAY['Running', 'Compensating', 'Completed', 'Compensated', 'Cancelled', 'CompensationFailed'])[coalesce((saga ->> 'Status')::int, 0) + 1]),
           saga ->> 'FailedStep',
           noorg_json_unix_ms(saga ->> 'CreatedAt'),
           noorg_json_unix_ms(saga ->> 'UpdatedAt'),
           noorg_json_unix_ms(saga ->> 'FinishedAt'),
           trunc(extract(epoch FROM noorg_json_time(saga ->> 'FinishedAt') - noorg_json_time(saga ->> 'CreatedAt')) * 1000)::bigint,
           coalesce((saga ->> 'Version')::bigint, 0)
$fn$;

CREATE FUNCTION noorg_project_saga() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.payload ->> 'Definition' IS NULL THEN
        DELETE FROM noorg_sagas WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.grain_id_string ELSE NEW.grain_id_string END;
        RETURN NULL;
    END IF;

    INSERT INTO noorg_sagas SELECT * FROM noorg_saga_row(NEW.grain_id_string, NEW.payload)
    ON CONFLICT (id) DO UPDATE
       SET definition = excluded.definition, status = excluded.status, failed_step = excluded.failed_step,
           created_at = excluded.created_at, updated_at = excluded.updated_at, finished_at = excluded.finished_at,
           duration_ms = excluded.duration_ms, version = excluded.version;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER noorg_project_saga_write
AFTER INSERT OR UPDATE OF payload ON orleans_grain_state
FOR EACH ROW WHEN (NEW.state_name = 'saga')
EXECUTE FUNCTION noorg_project_saga();

CREATE TRIGGER noorg_project_saga_delete
AFTER DELETE ON orleans_grain_state
FOR EACH ROW WHEN (OLD.state_name = 'saga')
EXECUTE FUNCTION noorg_project_saga();

-- Rebuild the index from the stored states once, so it starts exactly equal to them.
DELETE FROM noorg_sagas;

INSERT INTO noorg_sagas
SELECT r.*
  FROM orleans_grain_state AS s
 CROSS JOIN LATERAL noorg_saga_row(s.grain_id_string, s.payload) AS r
 WHERE s.state_name = 'saga' AND s.payload ->> 'Definition' IS NOT NULL;
