-- The evaluation expert pool (评标专家库), imported from the center's roster
-- and edited in the app. Each row is covered by its latest `expert.saved`
-- audit record, which holds the row's SM3 (no identity in the trail itself).
CREATE TABLE experts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    id_number   TEXT NOT NULL,
    phone       TEXT,
    email       TEXT,
    specialties TEXT NOT NULL,               -- JSON array of specialty codes
    employer    TEXT NOT NULL,
    region      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    unavailable TEXT NOT NULL,               -- JSON array of YYYY-MM-DD
    updated_at  TEXT NOT NULL
);

-- Expert draws. The commitment (the seed's SM3) is written and audited
-- before the draw; the seed, the outcome and the event that told the drawn
-- experts after it, in one transaction.
CREATE TABLE draws (
    id         TEXT PRIMARY KEY,
    project    TEXT NOT NULL,
    inputs     TEXT NOT NULL,                -- canonical JSON of core::draw::Inputs
    commitment TEXT NOT NULL,
    seed       TEXT,                         -- hex, NULL until revealed
    outcome    TEXT,                         -- JSON of core::draw::Outcome
    event_id   TEXT,                         -- the experts.drawn event
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX draws_project ON draws (project);
