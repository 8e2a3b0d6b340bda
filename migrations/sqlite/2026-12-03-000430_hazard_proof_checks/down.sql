DELETE FROM proof_checks WHERE ticket_id IS NULL;
CREATE TABLE proof_checks_old (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    unit_id TEXT,
    resolved_at BIGINT NOT NULL,
    photo TEXT NOT NULL,
    verified BOOLEAN NOT NULL,
    reason TEXT NOT NULL,
    distance_m DOUBLE PRECISION,
    taken_at BIGINT,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    checked_at BIGINT NOT NULL
);
INSERT INTO proof_checks_old SELECT id, ticket_id, unit_id, resolved_at, photo, verified, reason,
    distance_m, taken_at, lat, lon, checked_at FROM proof_checks;
DROP TABLE proof_checks;
ALTER TABLE proof_checks_old RENAME TO proof_checks;
CREATE INDEX proof_checks_ticket ON proof_checks (ticket_id, resolved_at);
CREATE INDEX proof_checks_unit ON proof_checks (unit_id, checked_at);
