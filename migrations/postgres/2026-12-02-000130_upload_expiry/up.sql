-- Uploads that nothing references yet carry the instant they may be deleted; a complaint or a
-- resolution that references one clears it. The index holds only those still due, so the
-- clean-up reads what is due and nothing else.
ALTER TABLE uploads ADD COLUMN expires_at BIGINT;
CREATE INDEX uploads_expires_at ON uploads (expires_at) WHERE expires_at IS NOT NULL;

-- Bytes uploaded anonymously per client address and UTC day (the daily budget).
CREATE TABLE upload_budgets (
    ip TEXT NOT NULL,
    day BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    PRIMARY KEY (ip, day)
);
CREATE INDEX upload_budgets_day ON upload_budgets (day);
