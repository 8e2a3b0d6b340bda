-- The device's whole state: one row of identity, tokens, clock and cursor.
CREATE TABLE device_state (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    -- Stable node name for this install's hybrid clock (a UUID made at first open).
    node TEXT NOT NULL,
    -- Issued by the server at registration.
    device_id TEXT,
    server_url TEXT,
    username TEXT,
    access_token TEXT,
    refresh_token TEXT,
    -- Opaque pull cursor; NULL = pull from the start.
    pull_cursor TEXT,
    -- Last hybrid clock stamp issued or observed.
    last_hlc TEXT,
    -- The next outbox sequence number; only ever grows, so a seq is never reused.
    next_seq BIGINT NOT NULL DEFAULT 1,
    last_sync_at TEXT
);

-- Server state as last pulled.
CREATE TABLE records (
    id TEXT PRIMARY KEY NOT NULL,
    record_type TEXT NOT NULL,
    version BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT 0,
    fields TEXT NOT NULL
);
CREATE INDEX records_by_type ON records (record_type, id);

-- Local mutations not yet acknowledged by the server, in seq order.
CREATE TABLE outbox (
    seq BIGINT PRIMARY KEY NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    op TEXT NOT NULL,
    base_version BIGINT,
    fields TEXT NOT NULL,
    hlc TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX outbox_by_record ON outbox (record_id, seq);

-- Mutations the server accepted whose effect a pull has not brought back yet: they stay in
-- the view until a pull brings the record at `version` or later (or, when the server did not
-- say the version, until the next complete pull), so nothing flickers back to an old value.
CREATE TABLE acked (
    seq BIGINT PRIMARY KEY NOT NULL,
    version BIGINT,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    op TEXT NOT NULL,
    base_version BIGINT,
    fields TEXT NOT NULL,
    hlc TEXT NOT NULL
);
CREATE INDEX acked_by_record ON acked (record_id, seq);

-- Conflicts the server reported for this device's mutations.
CREATE TABLE conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    seq BIGINT NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    field TEXT NOT NULL,
    base_version BIGINT,
    server_value TEXT NOT NULL,
    server_hlc TEXT,
    server_author TEXT,
    device_value TEXT NOT NULL,
    device_hlc TEXT NOT NULL,
    device_author TEXT NOT NULL,
    winner TEXT NOT NULL,
    reported_at TEXT NOT NULL
);

-- Mutations the server refused, with its reasons.
CREATE TABLE rejected (
    seq BIGINT PRIMARY KEY NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    op TEXT NOT NULL,
    fields TEXT NOT NULL,
    code TEXT NOT NULL,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL,
    rejected_at TEXT NOT NULL
);

-- Photos copied into the device directory, by content hash.
CREATE TABLE photos (
    sha256 TEXT PRIMARY KEY NOT NULL,
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    uploaded BOOLEAN NOT NULL DEFAULT 0,
    added_at TEXT NOT NULL
);
