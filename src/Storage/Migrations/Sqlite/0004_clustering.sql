-- Intentionally empty on SQLite: PostgreSQL's 0004 creates the membership tables, which the embedded
-- single-silo default does not use (it runs localhost clustering). The number is kept so both dialects
-- number their migrations alike and without gaps.
SELECT 1;
