DROP TRIGGER register_version_on_update;
DROP TRIGGER register_version_on_insert;
DROP TABLE annual_plan_changes;
DROP TABLE annual_plans;
DROP TABLE register_record_versions;
DROP TABLE register_office_devices;
