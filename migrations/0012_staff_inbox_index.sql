-- The staff inbox's partial index with its roles spelled as equalities:
-- SQLite evaluates an IN list of three values on every push it inserts far
-- more slowly than two or three comparisons (1.7 M pushes: +2.3 s), and the
-- inbox's queries repeat this very predicate (store::pushes::STAFF) so the
-- planner still finds the index.
DROP INDEX pushes_staff;
CREATE INDEX pushes_staff ON pushes (recipient_id, no)
    WHERE recipient_role = 'center_staff' OR recipient_role = 'supervisor_staff'
       OR recipient_role = 'supervisor';
