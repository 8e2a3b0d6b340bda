-- Complaints (接诉即办): uploads, tickets with their append-only event history, supporters
-- ("me too"), extension requests, idempotency keys, clock marks (reminders/escalations sent),
-- and the notification outbox. Instants are BIGINT milliseconds since the epoch (UTC).

CREATE TABLE uploads (
    id TEXT PRIMARY KEY NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    data BLOB NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('ticket_no', 0);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_no TEXT NOT NULL UNIQUE,
    tracking_code TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    category_code TEXT NOT NULL REFERENCES categories(code),
    description TEXT NOT NULL,
    address TEXT,
    area_id TEXT REFERENCES areas(id),
    lat DOUBLE,
    lon DOUBLE,
    reporter_name TEXT,
    reporter_phone TEXT,
    photos TEXT NOT NULL,
    status TEXT NOT NULL,
    unit_id TEXT REFERENCES units(id),
    route_rule_id TEXT,
    route_note TEXT NOT NULL,
    clock_start BIGINT NOT NULL,
    response_due BIGINT NOT NULL,
    resolution_due BIGINT NOT NULL,
    accepted_at BIGINT,
    resolved_at BIGINT,
    closed_at BIGINT,
    disputes INTEGER NOT NULL,
    extension_pending BOOLEAN NOT NULL,
    supporters INTEGER NOT NULL,
    rating INTEGER,
    rating_comment TEXT,
    rated_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX tickets_unit_status ON tickets(unit_id, status);
CREATE INDEX tickets_status_due ON tickets(status, resolution_due);
CREATE INDEX tickets_similar ON tickets(area_id, category_code, created_at);
CREATE INDEX tickets_created ON tickets(created_at);

CREATE TABLE ticket_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_user_id TEXT,
    actor_name TEXT,
    unit_id TEXT,
    body TEXT,
    public BOOLEAN NOT NULL,
    photos TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT,
    rating INTEGER,
    response_due BIGINT,
    resolution_due BIGINT,
    data TEXT
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);
CREATE INDEX ticket_events_at ON ticket_events(at);

CREATE TABLE ticket_supporters (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    tracking_code TEXT NOT NULL UNIQUE,
    name TEXT,
    phone TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_supporters_ticket ON ticket_supporters(ticket_id);

CREATE TABLE extension_requests (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    unit_id TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_due BIGINT NOT NULL,
    previous_due BIGINT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    decision_reason TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX extension_requests_status ON extension_requests(status, created_at);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE clock_marks (
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    kind TEXT NOT NULL,
    due BIGINT NOT NULL,
    day TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, kind, due, day)
);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL,
    ticket_id TEXT,
    unit_id TEXT,
    event_kind TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    url TEXT NOT NULL,
    secret_env TEXT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    last_error TEXT,
    delivered_at BIGINT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
