-- A contract filed (signed) and some bidder's deposit not refunded yet
-- (core's workflow::Project::refund_pending): the refund's 5-day clock runs
-- (4.11). Kept with each project like the other waiting marks, so the
-- workbench finds the few through a partial index.
ALTER TABLE projects ADD COLUMN refund_pending INTEGER NOT NULL DEFAULT 0;

UPDATE projects SET refund_pending =
    EXISTS (SELECT 1 FROM json_each(progress, '$.stages') s
            WHERE s.value ->> '$.stage' = 'contract' AND coalesce(s.value ->> '$.filings', 0) > 0)
    AND EXISTS (SELECT 1 FROM parties x WHERE x.project = projects.code AND x.role = 'bidder'
                AND x.id NOT IN (SELECT value FROM json_each(projects.progress, '$.refunded')));

CREATE INDEX projects_refund_pending ON projects (updated_at) WHERE refund_pending = 1;
