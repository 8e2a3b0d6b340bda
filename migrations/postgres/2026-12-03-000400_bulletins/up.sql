-- 通报: weekly and monthly bulletins. A draft holds the figures computed for its period (JSON);
-- issuing gives it a number (per year of issue) and freezes it: the trigger below refuses any
-- later change to an issued row, whatever path tries.
CREATE TABLE bulletins (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    title TEXT NOT NULL,
    remarks TEXT NOT NULL,
    status TEXT NOT NULL,
    number_year INTEGER,
    number_seq INTEGER,
    number TEXT,
    data TEXT NOT NULL,
    data_sha256 TEXT NOT NULL,
    summary TEXT NOT NULL,
    computed_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    issued_by TEXT,
    issued_by_name TEXT,
    issued_at BIGINT
);
CREATE UNIQUE INDEX bulletins_number ON bulletins (number_year, number_seq);
CREATE INDEX bulletins_period ON bulletins (kind, period_start);
CREATE INDEX bulletins_created ON bulletins (created_at);

-- The last number handed out per year (the row is locked while a bulletin is issued).
CREATE TABLE bulletin_counters (
    year INTEGER PRIMARY KEY NOT NULL,
    last_seq INTEGER NOT NULL
);

CREATE FUNCTION bulletins_refuse_issued_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'an issued bulletin is immutable';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER bulletins_issued_frozen BEFORE UPDATE OR DELETE ON bulletins
    FOR EACH ROW WHEN (OLD.status = 'issued') EXECUTE FUNCTION bulletins_refuse_issued_change();

-- The bulletin reads the rectification orders as they stood at the end of its period.
CREATE INDEX register_record_versions_type ON register_record_versions (record_type, changed_at);
