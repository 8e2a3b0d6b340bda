DROP TABLE upload_budgets;
DROP INDEX uploads_expires_at;
ALTER TABLE uploads DROP COLUMN expires_at;
