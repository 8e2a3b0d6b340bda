DROP TRIGGER register_version_on_write ON sync_records;
CREATE TRIGGER register_version_on_write AFTER INSERT OR UPDATE ON sync_records
    FOR EACH ROW EXECUTE FUNCTION register_keep_version();
