-- The kept versions (register history, 履历) are for register records: a ticket's synced copy
-- changes with every event of the ticket, and its history is the ticket's own event log. Copying
-- each of its versions made the database about three times larger per ticket (issue 12).
DROP TRIGGER register_version_on_write ON sync_records;
CREATE TRIGGER register_version_on_write AFTER INSERT OR UPDATE ON sync_records
    FOR EACH ROW WHEN (NEW.record_type <> 'ticket') EXECUTE FUNCTION register_keep_version();
DELETE FROM register_record_versions WHERE record_type = 'ticket';
