-- Fresh pushes are claimed by range: a claim moves the outbox cursor (meta
-- outbox_cursor) past them and leases the range as one row here, rather
-- than writing a `sending` state for each push and rewriting it when the
-- push is sent (two of the busiest writes a dispatch made). A push at or
-- below the cursor with no state yet is being sent. Its record writes its
-- state and counts it off its range; the range goes when none is left. A
-- range whose lease ran out (its dispatcher died mid-send) is claimed again
-- push by push: each becomes `sending` under a lease of its own, uncertain.
CREATE TABLE outbox_leases (
    last        INTEGER PRIMARY KEY,             -- pushes.no: the range ends here
    first       INTEGER NOT NULL,                -- and starts here
    open        INTEGER NOT NULL,                -- its pushes with no state yet
    lease_until TEXT NOT NULL
);

-- The same reading of a push's status as the program's (ggzy_store::pushes).
DROP VIEW push_texts;
CREATE VIEW push_texts AS
SELECT p.no, p.id, p.event, p.rule, p.clause, p.recipient_role, p.recipient_id, p.recipient_name, p.channel,
       p.address, p.message, p.secret,
       coalesce(s.status, CASE WHEN p.no <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'outbox_cursor')
                               THEN 'sending' ELSE 'queued' END) AS status,
       m.head || p.recipient_name || m.body AS text
FROM pushes p JOIN messages m ON m.no = p.message LEFT JOIN push_states s ON s.push_no = p.no;
