-- GGZY Push local store. Records that travel to the sync server (events,
-- pushes, push status changes, audit records) are append-only and carry the
-- id of the device that wrote them and that device's own sequence number:
-- the seq of the device's audit record that covers them (origin_seq); a push
-- carries them through its event.
-- Tables marked "projection" hold current state derived from those records.

-- Every device whose records are here, by a local number: rows carry the
-- number (`origin_device`), not the 36-character id, in table and index alike.
CREATE TABLE devices (
    n  INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE                      -- the device's uuid
);

-- This database's identity (device_id).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Center settings: name, contact phone.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The staff directory: the desktop app's users.
CREATE TABLE users (
    username             TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    role                 TEXT NOT NULL CHECK (role IN ('center_staff', 'supervisor_staff', 'supervisor', 'admin')),
    phone                TEXT,
    email                TEXT,
    password_hash        TEXT NOT NULL,          -- argon2id PHC string, never the password
    must_change_password INTEGER NOT NULL DEFAULT 1,
    active               INTEGER NOT NULL DEFAULT 1,
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    locked_until         TEXT,
    created_at           TEXT NOT NULL
);
CREATE INDEX users_role ON users (role) WHERE active = 1;

-- Every accepted intake event, as received (canonical JSON). Its type and
-- time are in the body, not stored twice: see the view event_log.
CREATE TABLE events (
    no            INTEGER PRIMARY KEY,           -- local row number: what pushes point at
    id            TEXT NOT NULL UNIQUE,          -- the intake id: its idempotency key
    project       TEXT,
    body          TEXT NOT NULL,
    digest        BLOB NOT NULL,                 -- SM3 of body, 32 bytes
    source        TEXT NOT NULL,                 -- e.g. import:file.jsonl, demo
    received_at   TEXT NOT NULL,
    origin_device INTEGER NOT NULL,
    origin_seq    INTEGER NOT NULL,              -- seq of the audit record that covers it
    UNIQUE (origin_device, origin_seq)
);
CREATE INDEX events_project ON events (project) WHERE project IS NOT NULL;

-- Events for reading by hand.
CREATE VIEW event_log AS
SELECT no, id, iif(json_valid(body), body ->> '$.type', NULL) AS type,
       iif(json_valid(body), body ->> '$.at', NULL) AS at, project, body, hex(digest) AS digest,
       source, received_at, origin_device, origin_seq
FROM events;

-- Projection: one row per registered project.
CREATE TABLE projects (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    stage         TEXT,                          -- the stage touched last
    progress      TEXT NOT NULL,                 -- JSON of the core's workflow::Progress
    registered_at TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- Projection: a project's tenderer, agency, bidders and experts.
CREATE TABLE parties (
    project  TEXT NOT NULL REFERENCES projects (code),
    role     TEXT NOT NULL,
    id       TEXT NOT NULL,
    name     TEXT NOT NULL,
    phone    TEXT,
    email    TEXT,
    position INTEGER NOT NULL,                   -- order of arrival
    PRIMARY KEY (project, role, id)
) WITHOUT ROWID;

-- Projection: platform members (4.1). Passwords as argon2 hashes only.
CREATE TABLE members (
    username            TEXT PRIMARY KEY,
    party               TEXT NOT NULL,           -- JSON
    status              TEXT NOT NULL,
    password_hash       TEXT,
    password_expires_at TEXT,
    updated_at          TEXT NOT NULL
);

-- Projection: complaints (5.1) and their results.
CREATE TABLE complaints (
    id          TEXT PRIMARY KEY,
    project     TEXT,
    record      TEXT NOT NULL,                   -- JSON of the core's ComplaintRecord
    lodged_at   TEXT NOT NULL,
    resolved_at TEXT
);

-- Satisfaction surveys (Appendix A).
CREATE TABLE surveys (
    event_id           TEXT PRIMARY KEY REFERENCES events (id),
    respondent         TEXT NOT NULL,            -- JSON
    timeliness         INTEGER NOT NULL,
    completeness       INTEGER NOT NULL,
    accuracy           INTEGER NOT NULL,
    access             INTEGER NOT NULL,
    courtesy           INTEGER NOT NULL,
    complaint_handling INTEGER NOT NULL,
    remarks            TEXT,
    answered_at        TEXT NOT NULL
);

-- Messages as the recipients of one event in one role read them (twenty
-- bidders, one notice): stored once. A push's exact text is its message's
-- head, its recipient's name, then the body (see push_texts).
CREATE TABLE messages (
    no   INTEGER PRIMARY KEY,
    head TEXT NOT NULL,                          -- 【center】
    body TEXT NOT NULL                           -- ，您好！…; secrets masked
);

-- The outbox: what each push carries, written once with its event and never
-- changed. A push travels with its event and shares its origin (the event's
-- origin_device and origin_seq). Where a push stands is in push_states.
CREATE TABLE pushes (
    no              INTEGER PRIMARY KEY,         -- local queue order
    id              BLOB NOT NULL,               -- idempotency key: time-ordered uuid (16 bytes) of (event, rule,
                                                 -- recipient, channel); unique by construction, as its event is
    event           INTEGER NOT NULL REFERENCES events (no),
    rule            TEXT NOT NULL,               -- e.g. 4.4.2-reject
    clause          TEXT GENERATED ALWAYS AS     -- e.g. 4.4.2: the rule up to its '-'
                        (substr(rule, 1, instr(rule || '-', '-') - 1)) VIRTUAL,
    recipient_role  TEXT NOT NULL,
    recipient_id    TEXT NOT NULL,
    recipient_name  TEXT NOT NULL,
    channel         TEXT NOT NULL,
    address         TEXT NOT NULL,
    message         INTEGER NOT NULL REFERENCES messages (no),
    secret          TEXT                         -- a secret the dispatcher issues at send time
);
-- Pushes are found through their event's local number. Sequential keys
-- only: a random-keyed index would dirty one page per push and every commit
-- would rewrite them all.
CREATE INDEX pushes_event ON pushes (event);
-- A staff member's inbox: their own pushes, newest first. Partial, so the
-- pushes to parties outside (most of them) cost no index entry.
CREATE INDEX pushes_staff ON pushes (recipient_id, no)
    WHERE recipient_role IN ('center_staff', 'supervisor_staff');

-- How far each staff member has read their inbox (local to this desktop).
CREATE TABLE inbox_reads (
    username  TEXT PRIMARY KEY REFERENCES users (username),
    read_upto INTEGER NOT NULL                   -- pushes.no
);

-- Projection: where each push stands, derived from push_status. A queued push
-- has no row: a worker takes fresh pushes by `no` after its cursor (meta
-- outbox_cursor), and retries and expired leases through partial indexes.
CREATE TABLE push_states (
    push_no         INTEGER PRIMARY KEY REFERENCES pushes (no),
    status          TEXT NOT NULL
        CHECK (status IN ('sending', 'retrying', 'unknown', 'sent', 'delivered', 'failed', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,                        -- NULL: due now
    lease_until     TEXT,                        -- a claiming worker's lease
    updated_at      TEXT NOT NULL                -- last status change
);
CREATE INDEX push_states_retry ON push_states (next_attempt_at) WHERE status = 'retrying';
CREATE INDEX push_states_leased ON push_states (lease_until) WHERE status = 'sending';

-- Every push with the exact text it carries, for reading the file by hand.
CREATE VIEW push_texts AS
SELECT p.no, p.id, p.event, p.rule, p.clause, p.recipient_role, p.recipient_id, p.recipient_name, p.channel,
       p.address, p.message, p.secret, coalesce(s.status, 'queued') AS status,
       m.head || p.recipient_name || m.body AS text
FROM pushes p JOIN messages m ON m.no = p.message LEFT JOIN push_states s ON s.push_no = p.no;

-- Status history of each push: append-only.
CREATE TABLE push_status (
    id            INTEGER PRIMARY KEY,
    push_no       INTEGER NOT NULL REFERENCES pushes (no),
    status        TEXT NOT NULL,
    detail        TEXT,
    at            TEXT NOT NULL,
    origin_device INTEGER NOT NULL,
    origin_seq    INTEGER NOT NULL,              -- seq of the audit record that covers it
    UNIQUE (origin_device, origin_seq)
);
CREATE INDEX push_status_push ON push_status (push_no);

-- The audit trail: one SM3 hash chain per device. hash = SM3(prev_hash ‖
-- content): the previous record's 32 hash bytes (32 zero bytes for a device's
-- first record), then the content's UTF-8. Time, kind and subject are only
-- in the content the hash covers (see the view audit_trail).
CREATE TABLE audit_records (
    id            INTEGER PRIMARY KEY,
    origin_device INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    content       TEXT NOT NULL,                 -- canonical JSON (keys sorted), includes at/kind/subject
    prev_hash     BLOB NOT NULL,                 -- 32 bytes
    hash          BLOB NOT NULL,                 -- 32 bytes
    UNIQUE (origin_device, seq)
);

-- The trail for reading by hand: what each record says, hashes in hex.
CREATE VIEW audit_trail AS
SELECT a.id, d.id AS device, a.seq,
       iif(json_valid(a.content), a.content ->> '$.at', NULL) AS at,
       iif(json_valid(a.content), a.content ->> '$.kind', NULL) AS kind,
       iif(json_valid(a.content), a.content ->> '$.subject', NULL) AS subject,
       a.content, hex(a.prev_hash) AS prev_hash, hex(a.hash) AS hash
FROM audit_records a LEFT JOIN devices d ON d.n = a.origin_device;

-- The last record of each device's chain, written with it: a removed or
-- forged tail shows as a mismatch here.
CREATE TABLE audit_heads (
    origin_device INTEGER PRIMARY KEY,
    seq           INTEGER NOT NULL,
    hash          BLOB NOT NULL
);

-- Refused input, kept for staff to fix and retry. Never silently dropped.
CREATE TABLE rejects (
    id            INTEGER PRIMARY KEY,
    digest        TEXT NOT NULL UNIQUE,          -- SM3 of the raw line: the same line is kept once
    source        TEXT NOT NULL,
    line_no       INTEGER,
    event_id      TEXT,
    raw           TEXT NOT NULL,
    code          TEXT NOT NULL,
    locus         TEXT,                          -- the field or clause at fault
    message       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    resolved_at   TEXT,
    resolved_by   TEXT                           -- the event id that was accepted in its place
);
CREATE INDEX rejects_open ON rejects (event_id) WHERE resolved_at IS NULL;

-- Append-only, enforced by the database itself.
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit_records is append-only'); END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit_records is append-only'); END;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only'); END;
CREATE TRIGGER push_status_no_update BEFORE UPDATE ON push_status
BEGIN SELECT RAISE(ABORT, 'push_status is append-only'); END;
CREATE TRIGGER push_status_no_delete BEFORE DELETE ON push_status
BEGIN SELECT RAISE(ABORT, 'push_status is append-only'); END;
CREATE TRIGGER messages_no_update BEFORE UPDATE ON messages
BEGIN SELECT RAISE(ABORT, 'messages is append-only'); END;
CREATE TRIGGER messages_no_delete BEFORE DELETE ON messages
BEGIN SELECT RAISE(ABORT, 'messages is append-only'); END;
CREATE TRIGGER pushes_no_delete BEFORE DELETE ON pushes
BEGIN SELECT RAISE(ABORT, 'pushes is append-only'); END;
CREATE TRIGGER pushes_no_update BEFORE UPDATE ON pushes
BEGIN SELECT RAISE(ABORT, 'pushes is append-only: a push''s status is in push_states'); END;
