-- The experts a draw called (the drawn, then backups as others declined or
-- let the time pass), their answers and their sign-in at the evaluation.
-- Each row is covered by its latest `draw.call` audit record, which holds
-- the row's SM3 (who was called stays out of the trail itself).
CREATE TABLE draw_calls (
    draw_id      TEXT NOT NULL REFERENCES draws (id),
    seq          INTEGER NOT NULL,           -- call order within the draw, from 1
    expert_id    TEXT NOT NULL,
    specialty    TEXT NOT NULL,
    event_id     TEXT NOT NULL,              -- the experts.drawn event that told them (4.6)
    called_at    TEXT NOT NULL,
    reply        TEXT CHECK (reply IN ('confirmed', 'declined', 'timed_out')),
    replied_at   TEXT,
    replied_by   TEXT,                       -- a username, `sms`, or `timeout`
    signed_in_at TEXT,
    signed_in_by TEXT,
    PRIMARY KEY (draw_id, seq),
    UNIQUE (draw_id, expert_id)
);
CREATE INDEX draw_calls_waiting ON draw_calls (called_at) WHERE reply IS NULL;
