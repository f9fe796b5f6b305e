-- The task read model behind ITaskIndex: one row per task, written by the task grains after every change, so
-- listing, statistics and dispatch read SQL instead of calling task grains. The grain state stays the source of
-- truth; a task grain re-projects itself when it activates, and a row is only replaced by a newer version.

-- state is the TaskState name in lower case; priority is TaskPriority's number (0 low, 1 medium, 2 high,
-- 3 critical) so that dispatch order is a plain descending sort. required_capabilities is a JSON array of text.
-- Times are UTC text with microseconds ('2025-01-31T12:00:00.000000Z'): fixed width, so they sort and compare
-- as text.
CREATE TABLE noorg_tasks (
    id                    TEXT    NOT NULL PRIMARY KEY,
    name                  TEXT    NOT NULL,
    type                  TEXT    NOT NULL,
    state                 TEXT    NOT NULL,
    priority              INTEGER NOT NULL,
    assigned_to           TEXT    NULL,
    attempt               INTEGER NOT NULL,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    finished_at           TEXT    NULL,
    next_attempt_at       TEXT    NULL,
    waiting_count         INTEGER NOT NULL,
    required_capabilities TEXT    NOT NULL CHECK (json_valid(required_capabilities)),
    version               INTEGER NOT NULL
);

-- Dispatch reads the queue in this exact order; partial, so it holds only pending tasks with nothing to wait for.
CREATE INDEX ix_noorg_tasks_ready ON noorg_tasks (priority DESC, created_at, id)
    WHERE state = 'pending' AND waiting_count = 0;

-- Listing pages by (created_at, id); each filter has an index that yields rows already in that order.
CREATE INDEX ix_noorg_tasks_created  ON noorg_tasks (created_at, id);
CREATE INDEX ix_noorg_tasks_state    ON noorg_tasks (state, created_at, id);
CREATE INDEX ix_noorg_tasks_type     ON noorg_tasks (type, created_at, id);
CREATE INDEX ix_noorg_tasks_priority ON noorg_tasks (priority, created_at, id);
CREATE INDEX ix_noorg_tasks_assigned ON noorg_tasks (assigned_to, created_at, id) WHERE assigned_to IS NOT NULL;
CREATE INDEX ix_noorg_tasks_updated  ON noorg_tasks (updated_at);

-- Retention: finished tasks by age.
CREATE INDEX ix_noorg_tasks_finished ON noorg_tasks (finished_at, id) WHERE finished_at IS NOT NULL;

-- Aggregates kept up to date by every projection, so statistics cost the same for ten tasks or ten million.
-- dimension is 'state', 'priority' or 'type' (tasks stored now, by that value; removal subtracts) or 'outcome'
-- ('completed', 'failed': tasks that ever ended so, never subtracted, for the success rate). Counts are spread
-- over 16 slots by task id as in PostgreSQL (SQLite has one writer anyway); readers sum the slots.
CREATE TABLE noorg_task_counts (
    dimension TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    slot      INTEGER NOT NULL,
    tally     INTEGER NOT NULL,
    PRIMARY KEY (dimension, value, slot)
) WITHOUT ROWID;

-- The same counts per combination of state, type and priority, so a listing filtered on any of those together
-- gets its total without counting rows. Slots as above.
CREATE TABLE noorg_task_group_counts (
    state    TEXT     NOT NULL,
    type     TEXT     NOT NULL,
    priority INTEGER  NOT NULL,
    slot     INTEGER  NOT NULL,
    tally    INTEGER  NOT NULL,
    PRIMARY KEY (state, type, priority, slot)
) WITHOUT ROWID;

-- One row per completion: how long it took, for statistics and duration estimates. Kept when the task itself is
-- removed by retention (it is history); estimates read only the newest 1000 per type (and agent).
CREATE TABLE noorg_task_samples (
    id            INTEGER NOT NULL PRIMARY KEY,
    task_id       TEXT    NOT NULL,
    type          TEXT    NOT NULL,
    agent_id      TEXT    NULL,
    processing_ms INTEGER NOT NULL,
    completed_at  TEXT    NOT NULL
);

CREATE INDEX ix_noorg_task_samples_recent ON noorg_task_samples (completed_at DESC, id DESC);
CREATE INDEX ix_noorg_task_samples_type   ON noorg_task_samples (type, completed_at DESC, id DESC);
CREATE INDEX ix_noorg_task_samples_agent  ON noorg_task_samples (type, agent_id, completed_at DESC, id DESC);
