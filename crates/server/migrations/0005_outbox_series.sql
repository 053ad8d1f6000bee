-- A push a desktop re-drove after the server gave up on it comes again
-- with a new series of attempts, sent under a key derived from its own
-- (`core::push::series_key`), as the desktop's dispatcher would.
ALTER TABLE outbox ADD COLUMN series INT NOT NULL DEFAULT 0;
