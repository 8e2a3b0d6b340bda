-- Rectification orders on clocks. One row per hazard with an order under way (deadline set,
-- not verified): the instant of its next clock event (reminder, first escalation, next daily
-- escalation); 0 = "look at it on the next pass". Written in the transaction of the hazard's
-- write (sync push), so it never lags the record.
CREATE TABLE hazard_clocks (
    hazard_id TEXT PRIMARY KEY NOT NULL,
    next_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX hazard_clocks_next ON hazard_clocks(next_at);

-- Each reminder and escalation of an order, once per (hazard, kind, deadline, day): the row is
-- inserted in the transaction of its outbox messages, and an existing row means it happened.
CREATE TABLE hazard_clock_events (
    hazard_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    deadline TEXT NOT NULL,
    day TEXT NOT NULL,
    round BIGINT NOT NULL,
    unit_id TEXT,
    to_units TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (hazard_id, kind, deadline, day)
);
CREATE INDEX hazard_clock_events_unit ON hazard_clock_events(unit_id, created_at);

-- Hazards written before this migration: each is looked at on the first pass (which drops those
-- without an order under way).
INSERT INTO hazard_clocks (hazard_id, next_at, updated_at)
SELECT id, 0, 0 FROM sync_records
WHERE record_type = 'hazard' AND deleted = false AND (status IS NULL OR status <> 'verified');
