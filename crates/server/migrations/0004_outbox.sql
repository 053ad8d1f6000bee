-- The server's outbox: the pushes of the events it decides, sent by any
-- instance. A push's content is its record's (`records.pushes`, by `gseq`):
-- a row here is where its sending stands. A claim takes due rows with
-- FOR UPDATE SKIP LOCKED and leases them; what each attempt came to is a
-- status record in the server's own series, which every desktop applies.
CREATE TABLE outbox (
    id          UUID PRIMARY KEY,          -- the push's id: its idempotency key
    gseq        BIGINT NOT NULL,           -- its event's record
    status      TEXT NOT NULL DEFAULT 'queued',
    detail      TEXT,
    attempts    INT NOT NULL DEFAULT 0,    -- attempts made (a deferral is none)
    claims      INT NOT NULL DEFAULT 0,    -- times claimed: more than attempts if one died mid-send
    due_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_until TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (due_at)
    WHERE status IN ('queued', 'retrying', 'unknown');

-- The pushes an event's record carries are its largest part: lz4 keeps
-- them compressed at a fraction of the default's cost.
ALTER TABLE records ALTER COLUMN pushes SET COMPRESSION lz4;
ALTER TABLE fold_projects ALTER COLUMN parties SET COMPRESSION lz4;
