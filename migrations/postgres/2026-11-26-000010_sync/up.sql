-- Conflict-aware sync (docs/sync.md). One row per record, its latest state; change_seq orders
-- the pull stream and comes from sync_counter, which writers hold until they commit.
CREATE TABLE sync_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    horizon BIGINT NOT NULL
);
INSERT INTO sync_counter (id, seq, horizon) VALUES (1, 0, 0);

CREATE TABLE sync_records (
    id TEXT PRIMARY KEY NOT NULL,
    record_type TEXT NOT NULL,
    version BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL,
    change_seq BIGINT NOT NULL,
    unit_id TEXT,
    area_id TEXT,
    status TEXT,
    programme TEXT,
    state TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX sync_records_change_seq ON sync_records (change_seq);
CREATE INDEX sync_records_unit ON sync_records (unit_id, change_seq);
CREATE INDEX sync_records_area ON sync_records (area_id, change_seq);
CREATE INDEX sync_records_type ON sync_records (record_type, deleted);

CREATE TABLE sync_scope_exits (
    seq BIGINT PRIMARY KEY NOT NULL,
    record_id TEXT NOT NULL,
    record_type TEXT NOT NULL,
    unit_id TEXT,
    area_id TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE sync_scopes (
    fingerprint TEXT PRIMARY KEY NOT NULL,
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sync_device_seqs (
    device_id TEXT PRIMARY KEY NOT NULL,
    last_seq BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sync_conflicts (
    id TEXT PRIMARY KEY NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    field TEXT NOT NULL,
    base_version BIGINT,
    server_value TEXT NOT NULL,
    device_value TEXT NOT NULL,
    winner TEXT NOT NULL,
    server_author TEXT,
    device_author TEXT NOT NULL,
    server_hlc TEXT,
    device_hlc TEXT NOT NULL,
    unit_id TEXT,
    area_id TEXT,
    created_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    resolution TEXT,
    resolved_by TEXT,
    resolved_at BIGINT
);
CREATE INDEX sync_conflicts_status ON sync_conflicts (status, created_at);
CREATE INDEX sync_conflicts_record ON sync_conflicts (record_id);

CREATE TABLE sync_rejections (
    id TEXT PRIMARY KEY NOT NULL,
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    mutation TEXT NOT NULL,
    code TEXT NOT NULL,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sync_rejections_device ON sync_rejections (device_id, seq);

CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
