-- The pushes an accepted event's record covers, as JSON (their digest is in
-- the record's content): another desktop stores them as they are.
ALTER TABLE records ADD COLUMN pushes TEXT;
