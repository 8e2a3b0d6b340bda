-- 后续管理: a renovated community handed over to a property manager (a unit of kind
-- property_manager) on a date; the routing rules the hand-over created are listed in
-- upkeep_rules so the routing explanation can say "hand-over".
CREATE TABLE upkeep_handovers (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL,
    area_id TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    took_over_on TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX upkeep_handovers_area ON upkeep_handovers (area_id, took_over_on);
CREATE INDEX upkeep_handovers_unit ON upkeep_handovers (unit_id);

CREATE TABLE upkeep_rules (
    rule_id TEXT PRIMARY KEY NOT NULL,
    handover_id TEXT NOT NULL,
    category_code TEXT NOT NULL
);
CREATE INDEX upkeep_rules_handover ON upkeep_rules (handover_id);
