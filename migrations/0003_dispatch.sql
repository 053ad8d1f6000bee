-- Dispatch: pushes whose answer never came (the request left, no reply, or
-- the dispatcher died mid-send) wait for reconciliation through their own
-- partial index, as retries do.
CREATE INDEX push_states_unknown ON push_states (next_attempt_at) WHERE status = 'unknown';

-- Every push handed to a provider, by its idempotency key: a delivery
-- receipt names the push by the key it was sent with. Kept after the
-- receipt, so a provider repeating a receipt changes nothing.
CREATE TABLE sent_keys (
    key     BLOB PRIMARY KEY,
    push_no INTEGER NOT NULL REFERENCES pushes (no)
) WITHOUT ROWID;

-- A person's re-drive starts a new series of attempts under a key derived
-- from the push's own (ggzy_core::push::series_key): a provider that took
-- the push before (and reported it failed) deduplicates by key, and would
-- otherwise take the re-drive as a repeat and send nothing.
ALTER TABLE push_states ADD COLUMN series INTEGER NOT NULL DEFAULT 0;
