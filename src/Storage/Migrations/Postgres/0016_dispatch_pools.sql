-- Dispatch pools (docs/dispatch.md): the ready tasks of one required capability list are read by that list, in
-- dispatch order. The list is hashed because a btree entry is limited to about 2.7 kB and a list of 32 long names
-- is longer; the query compares the text too.
CREATE INDEX ix_noorg_tasks_pool ON noorg_tasks (md5(required_capabilities), priority DESC, created_at, id)
    WHERE state = 'pending' AND waiting_count = 0;
