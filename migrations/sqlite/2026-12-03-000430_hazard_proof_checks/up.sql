-- Proof checks of hazard rectification photos (整改照片核验) share `proof_checks` with the
-- tickets' resolution photos: a row names a ticket or a hazard. `resolved_at` is the instant of
-- the resolution or of the rectification. SQLite cannot drop NOT NULL, so the table is rebuilt.
CREATE TABLE proof_checks_new (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT REFERENCES tickets(id),
    hazard_id TEXT,
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
INSERT INTO proof_checks_new (id, ticket_id, hazard_id, unit_id, resolved_at, photo, verified,
    reason, distance_m, taken_at, lat, lon, checked_at)
SELECT id, ticket_id, NULL, unit_id, resolved_at, photo, verified, reason, distance_m, taken_at,
    lat, lon, checked_at FROM proof_checks;
DROP TABLE proof_checks;
ALTER TABLE proof_checks_new RENAME TO proof_checks;
CREATE INDEX proof_checks_ticket ON proof_checks (ticket_id, resolved_at);
CREATE INDEX proof_checks_unit ON proof_checks (unit_id, checked_at);
CREATE INDEX proof_checks_hazard ON proof_checks (hazard_id, resolved_at);
