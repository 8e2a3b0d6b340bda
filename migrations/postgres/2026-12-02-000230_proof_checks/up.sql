-- The server's verdict on each proof photo of a ticket's resolution (办结照片核验). The position
-- read from the photo is staff-only evidence; the public answers carry the verdict and reason.
CREATE TABLE proof_checks (
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
CREATE INDEX proof_checks_ticket ON proof_checks (ticket_id, resolved_at);
CREATE INDEX proof_checks_unit ON proof_checks (unit_id, checked_at);
