-- The Orleans ADO.NET providers load their SQL from this table when they start (QueryKey -> QueryText).
-- Its name and columns are fixed by the providers: "SELECT QueryKey, QueryText FROM OrleansQuery".
CREATE TABLE OrleansQuery (
    QueryKey  TEXT NOT NULL PRIMARY KEY,
    QueryText TEXT NOT NULL
) WITHOUT ROWID;
