-- Outbox messages as rows (docs/outbox.md). A grain that embeds an outbox carries in its state only the messages
-- new in that write ($.Outbox.New); triggers insert them here inside the same statement, so a change and its
-- messages still commit together. Delivery then touches only this table: a delivered message is deleted (in batches
-- per silo), a failed attempt updates its row. The grain state is written once per change, and the two partial
-- indexes of 0009 over orleans_grain_state go. Times are UTC text with milliseconds, as strftime('%Y-%m-%dT%H:%M:%fZ').

-- seq (the rowid) is the recording order. target_kind is the OutboxTargetKind name: the state serializer writes
-- the number (0 Grain, 1 Stream, 2 Webhook), which the statements below spell out.
CREATE TABLE noorg_outbox (
    seq             INTEGER PRIMARY KEY,
    service_id      TEXT    NOT NULL,
    state_name      TEXT    NOT NULL,
    grain_key       TEXT    NOT NULL,
    message_id      TEXT    NOT NULL,
    target_kind     TEXT    NOT NULL,
    target_address  TEXT    NOT NULL,
    target_key      TEXT    NOT NULL DEFAULT '',
    message         TEXT    NOT NULL CHECK (json_valid(message)),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NULL,
    last_error      TEXT    NULL,
    dead            INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (service_id, state_name, grain_key, message_id, target_kind, target_address, target_key)
);

-- The sweeper: grains with messages due and untouched for a sweep period (a crash, a deactivation during back-off).
CREATE INDEX ix_noorg_outbox_due ON noorg_outbox (service_id, updated_at) WHERE dead = 0;

-- Dead letters by grain, for `noorg outbox dead` and the summary.
CREATE INDEX ix_noorg_outbox_dead ON noorg_outbox (service_id, state_name, grain_key) WHERE dead = 1;

-- Move what the states held ($.Outbox.Pending and .Dead) into rows, in their order (dead letters were recorded
-- first), then drop it from those payloads so it cannot be delivered twice. Other states keep their empty arrays
-- until their next write; the code ignores them. The 0009 indexes still serve these statements.
INSERT INTO noorg_outbox
    (service_id, state_name, grain_key, message_id, target_kind, target_address, target_key, message, attempts, next_attempt_at, last_error, dead)
SELECT s.service_id, s.state_name, s.grain_id_string, json_extract(e.value, '$.Message.Id'),
       CASE json_extract(e.value, '$.Target.Kind') WHEN 0 THEN 'Grain' WHEN 1 THEN 'Stream' WHEN 2 THEN 'Webhook' ELSE json_extract(e.value, '$.Target.Kind') END,
       json_extract(e.value, '$.Target.Address'), coalesce(json_extract(e.value, '$.Target.Key'), ''), json_extract(e.value, '$.Message'),
       coalesce(json_extract(e.value, '$.Attempts'), 0), strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(e.value, '$.NextAttemptAt')),
       json_extract(e.value, '$.LastError'), 1
  FROM orleans_grain_state AS s
  JOIN json_each(s.payload, '$.Outbox.Dead') AS e
 WHERE s.grain_id_string IS NOT NULL AND json_extract(s.payload, '$.Outbox.Dead[0]') IS NOT NULL
 ORDER BY s.service_id, s.state_name, s.grain_id_string, e.key
ON CONFLICT DO NOTHING;

INSERT INTO noorg_outbox
    (service_id, state_name, grain_key, message_id, target_kind, target_address, target_key, message, attempts, next_attempt_at, last_error, dead)
SELECT s.service_id, s.state_name, s.grain_id_string, json_extract(e.value, '$.Message.Id'),
       CASE json_extract(e.value, '$.Target.Kind') WHEN 0 THEN 'Grain' WHEN 1 THEN 'Stream' WHEN 2 THEN 'Webhook' ELSE json_extract(e.value, '$.Target.Kind') END,
       json_extract(e.value, '$.Target.Address'), coalesce(json_extract(e.value, '$.Target.Key'), ''), json_extract(e.value, '$.Message'),
       coalesce(json_extract(e.value, '$.Attempts'), 0), strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(e.value, '$.NextAttemptAt')),
       json_extract(e.value, '$.LastError'), 0
  FROM orleans_grain_state AS s
  JOIN json_each(s.payload, '$.Outbox.Pending') AS e
 WHERE s.grain_id_string IS NOT NULL AND json_extract(s.payload, '$.Outbox.Pending[0]') IS NOT NULL
 ORDER BY s.service_id, s.state_name, s.grain_id_string, e.key
ON CONFLICT DO NOTHING;

UPDATE orleans_grain_state
   SET payload = json_remove(payload, '$.Outbox'),
       version = version + 1,
       modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
 WHERE json_extract(payload, '$.Outbox.Pending[0]') IS NOT NULL OR json_extract(payload, '$.Outbox.Dead[0]') IS NOT NULL;

DROP INDEX ix_orleans_grain_state_outbox;
DROP INDEX ix_orleans_grain_state_dead_letters;

-- A message already recorded (same grain, message id and target) is kept as it is (an upsert clause, not
-- INSERT OR IGNORE, which the grain-state upsert that fires the trigger would override).
CREATE TRIGGER noorg_record_outbox_insert AFTER INSERT ON orleans_grain_state
WHEN json_type(NEW.payload, '$.Outbox.New[0]') IS NOT NULL
BEGIN
    INSERT INTO noorg_outbox (service_id, state_name, grain_key, message_id, target_kind, target_address, target_key, message)
    SELECT NEW.service_id, NEW.state_name, NEW.grain_id_string, json_extract(e.value, '$.Message.Id'),
       CASE json_extract(e.value, '$.Target.Kind') WHEN 0 THEN 'Grain' WHEN 1 THEN 'Stream' WHEN 2 THEN 'Webhook' ELSE json_extract(e.value, '$.Target.Kind') END,
           json_extract(e.value, '$.Target.Address'), coalesce(json_extract(e.value, '$.Target.Key'), ''), json_extract(e.value, '$.Message')
      FROM json_each(NEW.payload, '$.Outbox.New') AS e
     WHERE true
     ORDER BY e.key
    ON CONFLICT DO NOTHING;
END;

-- A write that records no message runs nothing; nor does one that repeats the previous write's messages.
CREATE TRIGGER noorg_record_outbox_update AFTER UPDATE OF payload ON orleans_grain_state
WHEN json_type(NEW.payload, '$.Outbox.New[0]') IS NOT NULL
 AND json_extract(OLD.payload, '$.Outbox.New') IS NOT json_extract(NEW.payload, '$.Outbox.New')
BEGIN
    INSERT INTO noorg_outbox (service_id, state_name, grain_key, message_id, target_kind, target_address, target_key, message)
    SELECT NEW.service_id, NEW.state_name, NEW.grain_id_string, json_extract(e.value, '$.Message.Id'),
       CASE json_extract(e.value, '$.Target.Kind') WHEN 0 THEN 'Grain' WHEN 1 THEN 'Stream' WHEN 2 THEN 'Webhook' ELSE json_extract(e.value, '$.Target.Kind') END,
           json_extract(e.value, '$.Target.Address'), coalesce(json_extract(e.value, '$.Target.Key'), ''), json_extract(e.value, '$.Message')
      FROM json_each(NEW.payload, '$.Outbox.New') AS e
     WHERE true
     ORDER BY e.key
    ON CONFLICT DO NOTHING;
END;

-- A cleared or deleted state takes its outbox with it, as it did when the outbox lived in the state.
CREATE TRIGGER noorg_record_outbox_clear AFTER UPDATE OF payload ON orleans_grain_state
WHEN NEW.payload IS NULL AND OLD.payload IS NOT NULL
BEGIN
    DELETE FROM noorg_outbox WHERE service_id = OLD.service_id AND state_name = OLD.state_name AND grain_key = OLD.grain_id_string;
END;

CREATE TRIGGER noorg_record_outbox_delete AFTER DELETE ON orleans_grain_state
BEGIN
    DELETE FROM noorg_outbox WHERE service_id = OLD.service_id AND state_name = OLD.state_name AND grain_key = OLD.grain_id_string;
END;
