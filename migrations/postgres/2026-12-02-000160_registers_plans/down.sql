DROP TRIGGER register_version_on_write ON sync_records;
DROP FUNCTION register_keep_version();
DROP TABLE annual_plan_changes;
DROP TABLE annual_plans;
DROP TABLE register_record_versions;
DROP TABLE register_office_devices;
