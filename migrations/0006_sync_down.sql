-- Sync, downward: other devices' records applied here, the order the sync
-- server gave every record, and what that order makes of them.

-- Where the sync server placed each record in its one global order (every
-- device's, this one's included). Events are decided in this order: the
-- placed ones by gseq, then this desktop's not yet placed, by `no`.
CREATE TABLE placed (
    gseq          INTEGER PRIMARY KEY,
    origin_device INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    UNIQUE (origin_device, seq)
);

-- Pushes this desktop's dispatcher must not send: another device's
-- ('remote': it sends them, and its status records, which name a push by
-- its id, say how they stand), or the pushes of an event the order found
-- stale ('held', see conflicts).
CREATE TABLE push_holds (
    push_no INTEGER PRIMARY KEY REFERENCES pushes (no),
    why     TEXT NOT NULL CHECK (why IN ('remote', 'held')),
    id      BLOB                                 -- a remote push's id (pushes.id has no index of its own)
);
CREATE UNIQUE INDEX push_holds_remote ON push_holds (id) WHERE why = 'remote';

-- Actions the order found stale: an event that, decided in the order, the
-- core refuses (two reviews of one filing, a publication after a rejection
-- recorded elsewhere), or an event id another device had accepted first.
-- Kept, flagged, their pushes held, for staff to resolve. Derived from the
-- events and the order (`verify` decides them again and compares).
CREATE TABLE conflicts (
    origin_device INTEGER NOT NULL,
    origin_seq    INTEGER NOT NULL,              -- the event's record
    event_id      TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('stale', 'duplicate')),
    reason        TEXT NOT NULL,                 -- why the order refuses it, as staff read it
    found_at      TEXT NOT NULL,
    PRIMARY KEY (origin_device, origin_seq)
) WITHOUT ROWID;

-- How people resolved conflicts, from their records (`conflict.resolved`,
-- on any device's chain; the first in the order stands): withdrawn (the
-- action stays void, its pushes never go), or re-recorded as a new event
-- after the current state.
CREATE TABLE conflict_resolutions (
    origin_device INTEGER NOT NULL,              -- the conflicted event's record
    origin_seq    INTEGER NOT NULL,
    how           TEXT NOT NULL CHECK (how IN ('withdrawn', 'rerecorded')),
    event         TEXT,                          -- the event it was re-recorded as
    by            TEXT NOT NULL,                 -- who resolved it (username)
    at            TEXT NOT NULL,
    PRIMARY KEY (origin_device, origin_seq)
) WITHOUT ROWID;
