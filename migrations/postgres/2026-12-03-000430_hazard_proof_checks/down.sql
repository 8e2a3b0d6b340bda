DROP INDEX proof_checks_hazard;
DELETE FROM proof_checks WHERE ticket_id IS NULL;
ALTER TABLE proof_checks DROP COLUMN hazard_id;
ALTER TABLE proof_checks ALTER COLUMN ticket_id SET NOT NULL;
