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
