-- Per-day aggregates of the ticket events (issue 12), kept by `stats::aggregate::on_event` in the
-- same transaction as each event, so `stats/units` and `public/stats` read sums over days instead
-- of replaying the history. `day` is the city date as YYYYMMDD. Every counter is the sum of the
-- tickets' contributions (`stats::daily`); changes are additive upserts, safe with two processes.

-- Rates per unit: counted on the day of the event (overdue also on the day of a deadline an open
-- ticket has passed).
CREATE TABLE stats_unit_daily (
    day INTEGER NOT NULL,
    unit_id TEXT NOT NULL,
    dispatched BIGINT NOT NULL DEFAULT 0,
    accepted_in_time BIGINT NOT NULL DEFAULT 0,
    resolved BIGINT NOT NULL DEFAULT 0,
    overdue BIGINT NOT NULL DEFAULT 0,
    closed_answered BIGINT NOT NULL DEFAULT 0,
    confirmed_solved BIGINT NOT NULL DEFAULT 0,
    ratings BIGINT NOT NULL DEFAULT 0,
    satisfied BIGINT NOT NULL DEFAULT 0,
    returns BIGINT NOT NULL DEFAULT 0,
    extensions BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, unit_id)
);

-- Hours from filing to a unit's first resolution, as a histogram (bucket = floor(8·log2(1 + minutes))).
CREATE TABLE stats_unit_hours (
    day INTEGER NOT NULL,
    unit_id TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, unit_id, bucket)
);

-- Public figures per filing day, district ('' = not located) and category, from the tickets'
-- current state.
CREATE TABLE stats_public_daily (
    day INTEGER NOT NULL,
    district_id TEXT NOT NULL,
    category_code TEXT NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    resolved BIGINT NOT NULL DEFAULT 0,
    ratings BIGINT NOT NULL DEFAULT 0,
    satisfied BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, district_id, category_code)
);

-- Hours from filing to resolution of the resolved tickets filed that day, per district.
CREATE TABLE stats_public_hours (
    day INTEGER NOT NULL,
    district_id TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, district_id, bucket)
);

-- Backfill marker: the server computes the aggregates from the existing events at its next
-- start (`stats::aggregate::backfill_if_pending`) and deletes this row in the same transaction.
CREATE TABLE stats_backfill (
    id INTEGER PRIMARY KEY
);
INSERT INTO stats_backfill (id) VALUES (1);
