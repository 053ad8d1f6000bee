-- Connected mode: this desktop's pushes handed to the sync server to send
-- (its own dispatcher is off). The server's status records name a push by
-- its id; this is how this desktop finds its own by that id. `series` is
-- the series of attempts handed over: a push re-driven here since (a new
-- series) is handed over again.
CREATE TABLE handed (
    id      BLOB PRIMARY KEY,
    push_no INTEGER NOT NULL UNIQUE REFERENCES pushes (no),
    series  INTEGER NOT NULL
) WITHOUT ROWID;
