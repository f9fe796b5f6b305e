-- The task read model behind ITaskIndex: one row per task, written by the task grains after every change, so
-- listing, statistics and dispatch read SQL instead of calling task grains. The grain state stays the source of
-- truth; a task grain re-projects itself when it activates, and a row is only replaced by a newer version.

-- state is the TaskState name in lower case; priority is TaskPriority's number (0 low, 1 medium, 2 high,
-- 3 critical) so that dispatch order is a plain descending sort. required_capabilities is a JSON array of text.
CREATE TABLE noorg_tasks (
    id                    text        NOT NULL PRIMARY KEY,
    name                  text        NOT NULL,
    type                  text        NOT NULL,
    state                 text        NOT NULL,
    priority              smallint    NOT NULL,
    assigned_to           text        NULL,
    attempt               integer     NOT NULL,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    finished_at           timestamptz NULL,
    next_attempt_at       timestamptz NULL,
    waiting_count         integer     NOT NULL,
    required_capabilities text        NOT NULL,
    version               bigint      NOT NULL
);

COMMENT ON TABLE noorg_tasks IS
    'Task index (read model): one row per task, projected by the task grains. Rebuildable from grain state.';

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
-- ('completed', 'failed': tasks that ever ended so, never subtracted, for the success rate). Each count is spread
-- over 16 slots chosen by task id, so concurrent projections rarely wait on the same row; readers sum the slots.
CREATE TABLE noorg_task_counts (
    dimension text     NOT NULL,
    value     text     NOT NULL,
    slot      smallint NOT NULL,
    tally     bigint   NOT NULL,
    PRIMARY KEY (dimension, value, slot)
);

-- The same counts per combination of state, type and priority, so a listing filtered on any of those together
-- gets its total without counting rows. Slots as above.
CREATE TABLE noorg_task_group_counts (
    state    text     NOT NULL,
    type     text     NOT NULL,
    priority smallint NOT NULL,
    slot     smallint NOT NULL,
    tally    bigint   NOT NULL,
    PRIMARY KEY (state, type, priority, slot)
);

-- One row per completion: how long it took, for statistics and duration estimates. Kept when the task itself is
-- removed by retention (it is history); estimates read only the newest 1000 per type (and agent).
CREATE TABLE noorg_task_samples (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id       text        NOT NULL,
    type          text        NOT NULL,
    agent_id      text        NULL,
    processing_ms bigint      NOT NULL,
    completed_at  timestamptz NOT NULL
);

CREATE INDEX ix_noorg_task_samples_recent ON noorg_task_samples (completed_at DESC, id DESC);
CREATE INDEX ix_noorg_task_samples_type   ON noorg_task_samples (type, completed_at DESC, id DESC);
CREATE INDEX ix_noorg_task_samples_agent  ON noorg_task_samples (type, agent_id, completed_at DESC, id DESC);
