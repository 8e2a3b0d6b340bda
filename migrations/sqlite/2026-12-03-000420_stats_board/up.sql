-- The board's counts (`stats/summary`, issue 12) from an aggregate instead of a scan of the
-- period's tickets: per scope ('*' = every unit, or the holding unit, '' = none), city day of
-- filing (YYYYMMDD) and dimension ('s' status, 'c' category, 'a' community), how many tickets
-- were received and how many of them are still open, by value (the status, category code or
-- community id, '' = not located). Kept by `stats::aggregate::on_ticket_change` in the
-- transaction that changes the ticket (its filing, each transition): the old rows minus one, the
-- new rows plus one, additive upserts. A year is about 40 rows a day per scope, whatever the
-- number of tickets.
CREATE TABLE stats_board_daily (
    scope TEXT NOT NULL,
    day INTEGER NOT NULL,
    dim TEXT NOT NULL,
    value TEXT NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    open BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, day, dim, value)
) WITHOUT ROWID;

-- The board's overdue counts read only the open tickets a unit holds whose resolution deadline
-- has passed (the statuses of `stats::summary::OPEN_AT_UNIT`), from the index alone.
CREATE INDEX tickets_open_overdue ON tickets(resolution_due, created_at, unit_id, category_code, area_id, status)
    WHERE status IN ('dispatched', 'accepted', 'reopened', 'escalated');

-- Computed from the existing tickets at the next start, with the other aggregates
-- (`stats::aggregate::backfill_if_pending` rebuilds them all).
DELETE FROM stats_backfill;
INSERT INTO stats_backfill (id) VALUES (1);
