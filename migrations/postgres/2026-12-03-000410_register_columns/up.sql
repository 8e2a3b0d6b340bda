-- Register columns of sync_records (docs/registers.md, "Indexes"): queryable copies of what the
-- register lists filter, sort and search on and what progress against plan sums, written by the
-- server in the same statement as the record (RecordRow::from_record, every writer), so a list
-- never parses the JSON state of rows it does not show. Backfilled here from the state. Text
-- columns compare by character code (COLLATE "C"), as the server's strings do.
ALTER TABLE sync_records ADD COLUMN grade TEXT COLLATE "C";
ALTER TABLE sync_records ADD COLUMN severity TEXT COLLATE "C";
ALTER TABLE sync_records ADD COLUMN date_on TEXT COLLATE "C";
ALTER TABLE sync_records ADD COLUMN due_on TEXT COLLATE "C";
ALTER TABLE sync_records ADD COLUMN finished_on TEXT COLLATE "C";
ALTER TABLE sync_records ADD COLUMN planned_units BIGINT;
ALTER TABLE sync_records ADD COLUMN completed_units BIGINT;
ALTER TABLE sync_records ADD COLUMN search TEXT COLLATE "C";

CREATE FUNCTION pg_temp.reg_text(s json, f text) RETURNS text AS $$
    SELECT CASE WHEN json_typeof(s -> f -> 'value') = 'string' THEN s -> f ->> 'value' END
$$ LANGUAGE sql IMMUTABLE;
CREATE FUNCTION pg_temp.reg_int(s json, f text) RETURNS bigint AS $$
    SELECT CASE WHEN json_typeof(s -> f -> 'value') = 'number' AND (s -> f ->> 'value') ~ '^-?[0-9]+$'
        THEN (s -> f ->> 'value')::bigint END
$$ LANGUAGE sql IMMUTABLE;

UPDATE sync_records r SET
    grade = pg_temp.reg_text(s.j, CASE r.record_type WHEN 'building' THEN 'safety_grade' ELSE 'grade' END),
    severity = pg_temp.reg_text(s.j, 'severity'),
    date_on = left(pg_temp.reg_text(s.j, CASE r.record_type WHEN 'project' THEN 'actual_start'
        WHEN 'inspection' THEN 'inspected_at' WHEN 'hazard' THEN 'order_issued_on' ELSE '' END), 10),
    due_on = pg_temp.reg_text(s.j, CASE r.record_type WHEN 'project' THEN 'planned_completion'
        WHEN 'hazard' THEN 'deadline' ELSE '' END),
    finished_on = CASE WHEN r.record_type = 'project' THEN pg_temp.reg_text(s.j, 'actual_completion') END,
    planned_units = CASE WHEN r.record_type = 'project' THEN pg_temp.reg_int(s.j, 'planned_units') END,
    completed_units = CASE WHEN r.record_type = 'project' THEN pg_temp.reg_int(s.j, 'completed_units') END,
    search = coalesce((SELECT string_agg(lower(e.value ->> 'value'), chr(31) ORDER BY e.key COLLATE "C")
                       FROM json_each(s.j) e
                       WHERE json_typeof(e.value -> 'value') = 'string'), '')
FROM (SELECT id, state::json AS j FROM sync_records
      WHERE deleted = FALSE AND record_type IN ('project', 'building', 'inspection', 'hazard')) s
WHERE r.id = s.id;

-- The default order (latest change first, then id) and each filter of the lists (each led by
-- record_type and deleted, as every list query is).
-- The default order carries the scope columns, so a unit-scoped list is counted and paged from
-- this index.
CREATE INDEX sync_records_reg_latest ON sync_records (record_type, deleted, updated_at DESC, id, area_id, unit_id);
CREATE INDEX sync_records_reg_grade ON sync_records (record_type, deleted, grade, area_id);
CREATE INDEX sync_records_reg_severity ON sync_records (record_type, deleted, severity, area_id);
CREATE INDEX sync_records_reg_status ON sync_records (record_type, deleted, status, area_id);
CREATE INDEX sync_records_reg_due ON sync_records (record_type, deleted, due_on, status);
-- The date indexes also carry what progress against plan sums (index-only aggregation).
CREATE INDEX sync_records_reg_date ON sync_records (record_type, deleted, date_on, area_id, programme, planned_units);
CREATE INDEX sync_records_reg_finished ON sync_records (record_type, deleted, finished_on, area_id, programme, planned_units, completed_units);
-- No index on search: a b-tree entry is limited to about 2.7 kB and a hazard's texts can be
-- longer; the text search scans the type's rows (see docs/registers.md, "Indexes").
