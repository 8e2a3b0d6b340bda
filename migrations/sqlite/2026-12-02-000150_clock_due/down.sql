DROP INDEX tickets_next_clock;
ALTER TABLE tickets DROP COLUMN next_clock_at;
