-- The server's outbox: the pushes of the events it decides, sent by any
-- instance. A claim takes due rows with FOR UPDATE SKIP LOCKED and leases
-- them; what each attempt came to is a status record in the server's own
-- series, which every desktop applies.
CREATE TABLE outbox (
    id             UUID PRIMARY KEY,          -- the push's id: its idempotency key
    gseq           BIGINT NOT NULL,           -- its event's record
    rule           TEXT NOT NULL,
    clause         TEXT NOT NULL,
    channel        TEXT NOT NULL,
    recipient_id   TEXT NOT NULL,
    recipient_name TEXT NOT NULL,
    address        TEXT NOT NULL,
    text           TEXT NOT NULL,
    secret         TEXT,
    status         TEXT NOT NULL DEFAULT 'queued',
    detail         TEXT,
    attempts       INT NOT NULL DEFAULT 0,   -- attempts made (a deferral is none)
    claims         INT NOT NULL DEFAULT 0,   -- times claimed: more than attempts if one died mid-send
    due_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_until    TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (due_at)
    WHERE status IN ('queued', 'retrying', 'unknown');
