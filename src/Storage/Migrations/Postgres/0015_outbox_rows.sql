-- Outbox messages as rows (docs/outbox.md). A grain that embeds an outbox carries in its state only the messages
-- new in that write (payload.Outbox.New); a trigger inserts them here inside the same statement, so a change and
-- its messages still commit together. Delivery then touches only this table: a delivered message is deleted (in
-- batches per silo), a failed attempt updates its row. The grain state is written once per change, and the two
-- partial indexes of 0009 over orleans_grain_state (which made every grain-state update non-HOT) go.

CREATE TABLE noorg_outbox (
    service_id      text COLLATE "C" NOT NULL,
    state_name      text COLLATE "C" NOT NULL,
    grain_key       text COLLATE "C" NOT NULL,
    message_id      text COLLATE "C" NOT NULL,
    target_kind     text COLLATE "C" NOT NULL,
    target_address  text COLLATE "C" NOT NULL,
    target_key      text COLLATE "C" NOT NULL DEFAULT '',
    seq             bigint           GENERATED ALWAYS AS IDENTITY,
    message         jsonb            NOT NULL,
    attempts        integer          NOT NULL DEFAULT 0,
    next_attempt_at timestamptz      NULL,
    last_error      text             NULL,
    dead            boolean          NOT NULL DEFAULT false,
    updated_at      timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, state_name, grain_key, message_id, target_kind, target_address, target_key)
);

COMMENT ON TABLE noorg_outbox IS
    'Outbox messages not yet delivered, one row per message and target: owner (service, state name, grain key), '
    'message (System.Text.Json OutboxMessage), target (OutboxTargetKind name, address, key or ''''), seq (recording '
    'order), attempts and back-off, dead letters.';

-- The state serializer writes OutboxTargetKind as its number; rows name it.
CREATE FUNCTION noorg_outbox_kind(kind text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT CASE kind WHEN '0' THEN 'Grain' WHEN '1' THEN 'Stream' WHEN '2' THEN 'Webhook' ELSE kind END
$fn$;

-- The sweeper: grains with messages due and untouched for a sweep period (a crash, a deactivation during back-off).
CREATE INDEX ix_noorg_outbox_due ON noorg_outbox (service_id, updated_at) WHERE NOT dead;

-- Dead letters by grain, for `noorg outbox dead` and the summary.
CREATE INDEX ix_noorg_outbox_dead ON noorg_outbox (service_id, state_name, grain_key) WHERE dead;

CREATE FUNCTION noorg_record_outbox() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.payload IS NULL THEN
        -- A cleared or deleted state takes its outbox with it, as it did when the outbox lived in the state.
        DELETE FROM noorg_outbox
         WHERE service_id = OLD.service_id AND state_name = OLD.state_name AND grain_key = OLD.grain_id_string;
        RETURN NULL;
    END IF;

    -- A message already recorded (same grain, message id and target) is kept as it is.
    INSERT INTO noorg_outbox (service_id, state_name, grain_key, message_id, target_kind, target_address, target_key, message)
    SELECT NEW.service_id, NEW.state_name, NEW.grain_id_string, n.e #>> '{Message,Id}', noorg_outbox_kind(n.e #>> '{Target,Kind}'),
           n.e #>> '{Target,Address}', coalesce(n.e #>> '{Target,Key}', ''), n.e -> 'Message'
      FROM jsonb_array_elements(NEW.payload #> '{Outbox,New}') WITH ORDINALITY AS n(e, i)
     ORDER BY n.i
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$fn$;

-- Move what the states held (payload.Outbox.Pending and .Dead) into rows, in their order (dead letters were
-- recorded first), then drop it from those payloads so it cannot be delivered twice. Other states keep their empty
-- arrays until their next write; the code ignores them. The 0009 indexes still serve these two statements.
INSERT INTO noorg_outbox
    (service_id, state_name, grain_key, message_id, target_kind, target_address, target_key, message, attempts, next_attempt_at, last_error, dead)
SELECT s.service_id, s.state_name, s.grain_id_string, o.e #>> '{Message,Id}', noorg_outbox_kind(o.e #>> '{Target,Kind}'), o.e #>> '{Target,Address}',
       coalesce(o.e #>> '{Target,Key}', ''), o.e -> 'Message', coalesce((o.e ->> 'Attempts')::integer, 0),
       (o.e ->> 'NextAttemptAt')::timestamptz, o.e ->> 'LastError', o.dead
  FROM orleans_grain_state AS s
 CROSS JOIN LATERAL (
        SELECT d.e, true AS dead, 0 AS part, d.i
          FROM jsonb_array_elements(CASE WHEN jsonb_typeof(s.payload #> '{Outbox,Dead}') = 'array' THEN s.payload #> '{Outbox,Dead}' ELSE '[]' END)
               WITH ORDINALITY AS d(e, i)
        UNION ALL
        SELECT p.e, false, 1, p.i
          FROM jsonb_array_elements(CASE WHEN jsonb_typeof(s.payload #> '{Outbox,Pending}') = 'array' THEN s.payload #> '{Outbox,Pending}' ELSE '[]' END)
               WITH ORDINALITY AS p(e, i)
     ) AS o
 WHERE s.grain_id_string IS NOT NULL
   AND ((s.payload #> '{Outbox,Pending,0}') IS NOT NULL OR (s.payload #> '{Outbox,Dead,0}') IS NOT NULL)
 ORDER BY s.service_id, s.state_name, s.grain_id_string, o.part, o.i
ON CONFLICT DO NOTHING;

UPDATE orleans_grain_state
   SET payload = payload - 'Outbox',
       version = version + 1,
       modified_at = now()
 WHERE (payload #> '{Outbox,Pending,0}') IS NOT NULL OR (payload #> '{Outbox,Dead,0}') IS NOT NULL;

DROP INDEX ix_orleans_grain_state_outbox;
DROP INDEX ix_orleans_grain_state_dead_letters;

CREATE TRIGGER noorg_record_outbox_insert
AFTER INSERT ON orleans_grain_state
FOR EACH ROW WHEN ((NEW.payload #> '{Outbox,New,0}') IS NOT NULL)
EXECUTE FUNCTION noorg_record_outbox();

-- A write that records no message runs nothing; nor does one that repeats the previous write's messages.
CREATE TRIGGER noorg_record_outbox_update
AFTER UPDATE OF payload ON orleans_grain_state
FOR EACH ROW WHEN (((NEW.payload #> '{Outbox,New,0}') IS NOT NULL
                    AND OLD.payload #> '{Outbox,New}' IS DISTINCT FROM NEW.payload #> '{Outbox,New}')
                   OR (NEW.payload IS NULL AND OLD.payload IS NOT NULL))
EXECUTE FUNCTION noorg_record_outbox();

CREATE TRIGGER noorg_record_outbox_delete
AFTER DELETE ON orleans_grain_state
FOR EACH ROW
EXECUTE FUNCTION noorg_record_outbox();
