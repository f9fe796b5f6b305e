-- Dispatch pools (docs/dispatch.md): the ready tasks of one required capability list are read by that list, in
-- dispatch order.
CREATE INDEX ix_noorg_tasks_pool ON noorg_tasks (required_capabilities, priority DESC, created_at, id)
    WHERE state = 'pending' AND waiting_count = 0;
