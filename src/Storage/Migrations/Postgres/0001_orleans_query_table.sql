-- The Orleans ADO.NET providers load their SQL from this table when they start (QueryKey -> QueryText).
-- Its name and columns are fixed by the providers, which run "SELECT QueryKey, QueryText FROM OrleansQuery"
-- (unquoted, so PostgreSQL folds them to orleansquery / querykey / querytext).
CREATE TABLE OrleansQuery (
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);
