-- Office pseudo-devices: an office user's edits (or the sample loader's) are mutations pushed
-- through sync under a device id of their own; this says whose it is (user_id NULL = system).
CREATE TABLE register_office_devices (
    device_id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX register_office_devices_user ON register_office_devices (user_id);

-- Every version of every synced record, written by triggers on sync_records, so the record
-- page shows the full history whatever path (device push, office edit, conflict review) wrote it.
CREATE TABLE register_record_versions (
    record_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    record_type TEXT NOT NULL,
    deleted BOOLEAN NOT NULL,
    state TEXT NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (record_id, version)
);

-- 年度计划: one target per year × district × measure.
CREATE TABLE annual_plans (
    year INTEGER NOT NULL,
    area_id TEXT NOT NULL,
    measure TEXT NOT NULL,
    target BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (year, area_id, measure)
);

CREATE TABLE annual_plan_changes (
    id TEXT PRIMARY KEY NOT NULL,
    year INTEGER NOT NULL,
    area_id TEXT NOT NULL,
    measure TEXT NOT NULL,
    old_target BIGINT,
    new_target BIGINT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_by_name TEXT NOT NULL,
    source TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX annual_plan_changes_year ON annual_plan_changes (year, changed_at);

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
