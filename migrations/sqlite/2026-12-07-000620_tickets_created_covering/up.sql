-- The list of tickets newest first (Open311 `requests`, the console's list) is ordered by
-- (created_at, id): with the id in the index, a page is read from the index alone, in order,
-- and an OFFSET skips index entries instead of fetching and sorting ticket rows (issue 12).
DROP INDEX tickets_created;
CREATE INDEX tickets_created ON tickets(created_at, id);
