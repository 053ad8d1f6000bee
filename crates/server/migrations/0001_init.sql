-- GGZY Push sync server, on PostgreSQL. Each desktop appends to its own
-- numbered series: the records of its audit chain, each with what it covers
-- (an accepted event's line). The server keeps them as they came, gives each
-- a place in one global order, and holds every series to its chain.

-- A desktop enrolled by an operator (`ggzy-server device add`). Its token is
-- kept as SM3 of the token, never the token; the desktop's own device id is
-- bound at its first upload, and no other device may write its series.
CREATE TABLE devices (
    n          BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    token_hash BYTEA NOT NULL UNIQUE,
    device_id  UUID UNIQUE,                      -- the desktop's id, bound at first upload
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);

-- The e-trading system's tokens for POST /api/v1/intake.
CREATE TABLE intake_tokens (
    n          BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    token_hash BYTEA NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);

-- The next global sequence number. One row: an upload takes its numbers by
-- updating it, so the row's lock orders uploads, and numbers become visible
-- in the order they were given (a downloader's cursor never skips one that
-- commits later).
CREATE TABLE global_seq (
    one  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    last BIGINT NOT NULL
);
INSERT INTO global_seq (last) VALUES (0);

-- Every record of every series, in the global order. `hash` =
-- SM3(prev_hash ‖ content), as on the desktop; `body` is what the record
-- covers when that is more than its content (an accepted event's line).
CREATE TABLE records (
    gseq        BIGINT PRIMARY KEY,
    device      BIGINT NOT NULL REFERENCES devices (n),
    seq         BIGINT NOT NULL,
    content     TEXT NOT NULL,
    prev_hash   BYTEA NOT NULL,
    hash        BYTEA NOT NULL,
    body        TEXT,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (device, seq)
);

-- Each series' head as the server holds it: a desktop whose chain no longer
-- reaches it was rewritten.
CREATE TABLE heads (
    device BIGINT PRIMARY KEY REFERENCES devices (n),
    seq    BIGINT NOT NULL,
    hash   BYTEA NOT NULL
);

-- Tampering seen: a record re-sent with another hash, a series that does
-- not follow its head. Shown to admins; never deleted.
CREATE TABLE alarms (
    n      BIGSERIAL PRIMARY KEY,
    device BIGINT REFERENCES devices (n),
    kind   TEXT NOT NULL,
    detail TEXT NOT NULL,
    at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
