-- The instant of each ticket's next clock event (reminder, deadline, auto-close, next daily
-- escalation); 0 = "look at it on the next pass", 9223372036854775807 = no clock runs.
-- Existing tickets start at 0, so the first pass after this migration computes every instant once.
ALTER TABLE tickets ADD COLUMN next_clock_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tickets_next_clock ON tickets(next_clock_at);
