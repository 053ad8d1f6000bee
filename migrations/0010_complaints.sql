-- The files kept with complaints' investigation notes (5.1.2): each under
-- the SM3 of its bytes, which the note's event carries into the audit
-- trail. `ggzy audit verify` holds every row to its key and to a note that
-- names it.
CREATE TABLE complaint_files (
    sm3      TEXT PRIMARY KEY,               -- 64 lowercase hex digits
    bytes    BLOB NOT NULL,
    added_at TEXT NOT NULL
);

-- The center's own supervisors (监督/投诉处理) have an inbox too: complaints
-- lodged, assigned and running out of time are told to them.
DROP INDEX pushes_staff;
CREATE INDEX pushes_staff ON pushes (recipient_id, no)
    WHERE recipient_role IN ('center_staff', 'supervisor_staff', 'supervisor');

-- The pushes to complainants (the 5.1.2 feedback, a refusal), which show
-- on each complaint whether its feedback reached the complainant.
CREATE INDEX pushes_complainant ON pushes (no) WHERE recipient_role = 'complainant';

-- Appendix A's form in full: the project it concerns, and the rest of the
-- form (how it came in, the address, the push, the date written on it).
ALTER TABLE surveys ADD COLUMN project TEXT;
ALTER TABLE surveys ADD COLUMN details TEXT;   -- JSON, when any was given
UPDATE surveys SET project = (SELECT e.project FROM events e WHERE e.id = surveys.event_id);

-- The improvement register (6): corrective and preventive actions, each
-- covered by its latest `improvement.saved` audit record (the row's SM3).
CREATE TABLE improvements (
    id         TEXT PRIMARY KEY,              -- GJ-2026-001
    cause      TEXT NOT NULL CHECK (cause IN ('survey', 'complaint', 'push', 'statistic', 'other')),
    cause_ref  TEXT,                          -- a survey's event id, a complaint id, a push number…
    title      TEXT NOT NULL,
    action     TEXT NOT NULL,
    owner      TEXT NOT NULL,
    due        TEXT,                          -- YYYY-MM-DD
    state      TEXT NOT NULL CHECK (state IN ('open', 'doing', 'done')),
    metric     TEXT,                          -- the measure showing its effect
    done_on    TEXT,                          -- YYYY-MM-DD: the measure took effect
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
