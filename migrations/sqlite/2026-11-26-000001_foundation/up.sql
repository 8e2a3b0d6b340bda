-- Foundation: settings, the organisation model, the working calendar, accounts and tokens.
-- Instants are BIGINT milliseconds since the epoch (UTC); ids are TEXT (UUIDs).

CREATE TABLE app_settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE areas (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    parent_id TEXT REFERENCES areas(id),
    kind TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    polygon TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX areas_parent ON areas(parent_id);

CREATE TABLE units (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    parent_id TEXT REFERENCES units(id),
    kind TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    supervising_unit_id TEXT REFERENCES units(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX units_parent ON units(parent_id);

CREATE TABLE unit_areas (
    unit_id TEXT NOT NULL REFERENCES units(id),
    area_id TEXT NOT NULL REFERENCES areas(id),
    PRIMARY KEY (unit_id, area_id)
);

CREATE TABLE unit_notify_targets (
    id TEXT PRIMARY KEY NOT NULL,
    unit_id TEXT NOT NULL REFERENCES units(id),
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    secret_env TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX unit_notify_targets_unit ON unit_notify_targets(unit_id);

CREATE TABLE deadline_tiers (
    code TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    response_kind TEXT NOT NULL,
    response_value INTEGER NOT NULL,
    resolution_kind TEXT NOT NULL,
    resolution_value INTEGER NOT NULL,
    clock TEXT NOT NULL
);

CREATE TABLE categories (
    code TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    tier_code TEXT NOT NULL REFERENCES deadline_tiers(code),
    needs_photo_proof BOOLEAN NOT NULL,
    icon TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    sort_order INTEGER NOT NULL
);

CREATE TABLE routing_rules (
    id TEXT PRIMARY KEY NOT NULL,
    rule_key TEXT NOT NULL UNIQUE,
    category_code TEXT REFERENCES categories(code),
    area_id TEXT NOT NULL REFERENCES areas(id),
    unit_id TEXT NOT NULL REFERENCES units(id),
    priority INTEGER NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    note TEXT
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    role TEXT NOT NULL,
    unit_id TEXT REFERENCES units(id),
    disabled BOOLEAN NOT NULL,
    token_version INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX users_unit ON users(unit_id);

CREATE TABLE devices (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    platform TEXT,
    registered_at BIGINT NOT NULL,
    last_seen_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX devices_user ON devices(user_id);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    device_id TEXT REFERENCES devices(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    throttle_key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures(throttle_key, at);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
