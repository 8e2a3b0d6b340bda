DROP TRIGGER register_version_on_insert;
DROP TRIGGER register_version_on_update;
CREATE TRIGGER register_version_on_insert AFTER INSERT ON sync_records
BEGIN
    INSERT OR IGNORE INTO register_record_versions (record_id, version, record_type, deleted, state, changed_at)
    VALUES (NEW.id, NEW.version, NEW.record_type, NEW.deleted, NEW.state, NEW.updated_at);
END;
CREATE TRIGGER register_version_on_update AFTER UPDATE ON sync_records
BEGIN
    INSERT OR IGNORE INTO register_record_versions (record_id, version, record_type, deleted, state, changed_at)
    VALUES (NEW.id, NEW.version, NEW.record_type, NEW.deleted, NEW.state, NEW.updated_at);
END;
