-- Proof checks of hazard rectification photos (整改照片核验) share `proof_checks` with the
-- tickets' resolution photos: a row names a ticket or a hazard. `resolved_at` is the instant of
-- the resolution or of the rectification.
ALTER TABLE proof_checks ALTER COLUMN ticket_id DROP NOT NULL;
ALTER TABLE proof_checks ADD COLUMN hazard_id TEXT;
CREATE INDEX proof_checks_hazard ON proof_checks (hazard_id, resolved_at);
