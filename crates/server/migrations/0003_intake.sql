-- The server runs the core on the global order: it folds every device's
-- events as it placed them (re-checking each) and decides the e-trading
-- system's events (POST /api/v1/intake) at the end of that order, into its
-- own series.

-- The server's own series (`core::sync::SERVER_DEVICE`): no token can name it.
INSERT INTO devices (name, token_hash, device_id)
VALUES ('(服务器)', '\x'::bytea, '67677a79-7365-7276-6572-000000000001');

-- How far the fold has gone in the global order.
CREATE TABLE fold_at (
    one  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    gseq BIGINT NOT NULL
);
INSERT INTO fold_at (gseq) VALUES (0);

-- What the fold holds: projects (their parties and progress as JSON),
-- members and complaints (their records as JSON).
CREATE TABLE fold_projects (
    code     TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    parties  TEXT NOT NULL,
    progress TEXT NOT NULL
);
CREATE TABLE fold_members (
    username TEXT PRIMARY KEY,
    record   TEXT NOT NULL
);
CREATE TABLE fold_complaints (
    id     TEXT PRIMARY KEY,
    record TEXT NOT NULL
);

-- Every event id in the order, first come: a later event with the same id
-- is a duplicate (identical) or refused (another event under that id).
CREATE TABLE fold_events (
    id     TEXT PRIMARY KEY,
    digest BYTEA NOT NULL,
    gseq   BIGINT NOT NULL
);

-- Events the fold refused in the order: stale actions, and ids another
-- device's event took first. The desktops find the same set.
CREATE TABLE fold_stale (
    gseq     BIGINT PRIMARY KEY,
    event_id TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('stale', 'duplicate')),
    reason   TEXT NOT NULL
);

-- Staff of every desktop, as their user records tell (the recipients of
-- the pushes to center and supervisory staff).
CREATE TABLE staff (
    username TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    role     TEXT NOT NULL,
    active   BOOLEAN NOT NULL
);

-- Lines of intake the server refused, kept with why.
CREATE TABLE intake_rejects (
    n        BIGSERIAL PRIMARY KEY,
    token    BIGINT NOT NULL REFERENCES intake_tokens (n),
    line     BIGINT NOT NULL,
    event_id TEXT,
    code     TEXT NOT NULL,
    message  TEXT NOT NULL,
    raw      TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
