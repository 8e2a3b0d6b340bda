-- 资金: every budget allocation, receipt (到位) and payment (支付) of a project, append-only.
-- A correction is a further entry (`corrects` names the entry it corrects, the amount is the
-- signed difference); nothing is ever updated or deleted.
CREATE TABLE fund_entries (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT,
    amount BIGINT NOT NULL,
    entry_date TEXT NOT NULL,
    note TEXT NOT NULL,
    corrects TEXT,
    recorded_by TEXT NOT NULL,
    recorded_by_name TEXT NOT NULL,
    origin TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX fund_entries_project ON fund_entries (project_id, entry_date);
CREATE INDEX fund_entries_date ON fund_entries (entry_date);
