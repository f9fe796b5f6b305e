-- Transactional outbox, inbox and webhook subscriptions (docs/outbox.md).

-- A grain embedding an outbox keeps its pending messages in its own state (payload.Outbox.Pending), written in
-- the same row write as the change that caused them. These partial indexes hold only the rows whose outbox is
-- not empty, so the sweeper finds grains left with messages (a crash, a deactivation during back-off) without
-- reading the whole table; the rows of every other state cost nothing.
CREATE INDEX ix_orleans_grain_state_outbox ON orleans_grain_state (modified_at)
    WHERE (payload #> '{Outbox,Pending,0}') IS NOT NULL;

CREATE INDEX ix_orleans_grain_state_dead_letters ON orleans_grain_state (state_name, grain_id_string)
    WHERE (payload #> '{Outbox,Dead,0}') IS NOT NULL;

-- The inbox: message ids a receiver has handled. A receiver records the id in the same transaction as its
-- effect, so a message is handled at most once however often it is delivered. Rows older than
-- NOORG_OUTBOX_INBOX_RETENTION_HOURS are removed by the sweeper.
CREATE TABLE noorg_inbox (
    receiver   text        NOT NULL,
    message_id text        NOT NULL,
    handled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (receiver, message_id)
);

CREATE INDEX ix_noorg_inbox_handled ON noorg_inbox (handled_at);

-- Webhook subscriptions. events is a JSON array of event types or prefixes ending in '*'. secret signs
-- each request (HMAC-SHA256); it is stored as given, so guard this table like the rest of the database.
CREATE TABLE noorg_webhooks (
    id          text        NOT NULL PRIMARY KEY,
    url         text        NOT NULL,
    events      jsonb       NOT NULL,
    secret      text        NOT NULL,
    description text        NULL,
    created_at  timestamptz NOT NULL
);
