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
