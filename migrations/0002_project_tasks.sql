-- What waits for staff, kept with each project when it is written (from the
-- core's workflow::Project::filing_pending / materials_pending), so the
-- workbench finds the few waiting projects through partial indexes instead
-- of reading every project's progress.
ALTER TABLE projects ADD COLUMN filing_pending INTEGER NOT NULL DEFAULT 0;     -- a filing awaits review
ALTER TABLE projects ADD COLUMN materials_pending INTEGER NOT NULL DEFAULT 0;  -- materials in, notice not out

UPDATE projects SET
    filing_pending = EXISTS (SELECT 1 FROM json_each(progress, '$.stages') s
                             WHERE s.value ->> '$.filing' = 'pending'),
    materials_pending = EXISTS (SELECT 1 FROM json_each(progress, '$.stages') s
                                WHERE coalesce(s.value ->> '$.materials', 0) > 0 AND s.value ->> '$.url' IS NULL);

CREATE INDEX projects_filing_pending ON projects (updated_at) WHERE filing_pending = 1;
CREATE INDEX projects_materials_pending ON projects (updated_at) WHERE materials_pending = 1;
