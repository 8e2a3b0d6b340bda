-- Register columns of sync_records (docs/registers.md, "Indexes"): queryable copies of what the
-- register lists filter, sort and search on and what progress against plan sums, written by the
-- server in the same statement as the record (RecordRow::from_record, every writer), so a list
-- never parses the JSON state of rows it does not show. Backfilled here from the state.
ALTER TABLE sync_records ADD COLUMN grade TEXT;
ALTER TABLE sync_records ADD COLUMN severity TEXT;
ALTER TABLE sync_records ADD COLUMN date_on TEXT;
ALTER TABLE sync_records ADD COLUMN due_on TEXT;
ALTER TABLE sync_records ADD COLUMN finished_on TEXT;
ALTER TABLE sync_records ADD COLUMN planned_units BIGINT;
ALTER TABLE sync_records ADD COLUMN completed_units BIGINT;
ALTER TABLE sync_records ADD COLUMN search TEXT;

UPDATE sync_records SET
    grade = CASE WHEN json_type(state, CASE record_type WHEN 'building' THEN '$.safety_grade.value' ELSE '$.grade.value' END) = 'text'
        THEN json_extract(state, CASE record_type WHEN 'building' THEN '$.safety_grade.value' ELSE '$.grade.value' END) END,
    severity = CASE WHEN json_type(state, '$.severity.value') = 'text' THEN json_extract(state, '$.severity.value') END,
    date_on = CASE record_type
        WHEN 'project' THEN CASE WHEN json_type(state, '$.actual_start.value') = 'text' THEN substr(json_extract(state, '$.actual_start.value'), 1, 10) END
        WHEN 'inspection' THEN CASE WHEN json_type(state, '$.inspected_at.value') = 'text' THEN substr(json_extract(state, '$.inspected_at.value'), 1, 10) END
        WHEN 'hazard' THEN CASE WHEN json_type(state, '$.order_issued_on.value') = 'text' THEN substr(json_extract(state, '$.order_issued_on.value'), 1, 10) END
        END,
    due_on = CASE record_type
        WHEN 'project' THEN CASE WHEN json_type(state, '$.planned_completion.value') = 'text' THEN json_extract(state, '$.planned_completion.value') END
        WHEN 'hazard' THEN CASE WHEN json_type(state, '$.deadline.value') = 'text' THEN json_extract(state, '$.deadline.value') END
        END,
    finished_on = CASE WHEN record_type = 'project' AND json_type(state, '$.actual_completion.value') = 'text' THEN json_extract(state, '$.actual_completion.value') END,
    planned_units = CASE WHEN record_type = 'project' AND json_type(state, '$.planned_units.value') = 'integer' THEN json_extract(state, '$.planned_units.value') END,
    completed_units = CASE WHEN record_type = 'project' AND json_type(state, '$.completed_units.value') = 'integer' THEN json_extract(state, '$.completed_units.value') END,
    search = coalesce((SELECT group_concat(lower(json_extract(j.value, '$.value')), char(31))
                       FROM json_each(sync_records.state) j
                       WHERE json_type(j.value, '$.value') = 'text'), '')
WHERE deleted = FALSE AND record_type IN ('project', 'building', 'inspection', 'hazard');

-- The default order (latest change first, then id) and each filter of the lists (each led by
-- record_type and deleted, as every list query is).
-- The default order carries the scope columns and the search texts, so a unit-scoped list and a
-- text search are counted and paged from this index alone, without reading the rows.
CREATE INDEX sync_records_reg_latest ON sync_records (record_type, deleted, updated_at DESC, id, area_id, unit_id, search);
CREATE INDEX sync_records_reg_grade ON sync_records (record_type, deleted, grade, area_id);
CREATE INDEX sync_records_reg_severity ON sync_records (record_type, deleted, severity, area_id);
CREATE INDEX sync_records_reg_status ON sync_records (record_type, deleted, status, area_id);
CREATE INDEX sync_records_reg_due ON sync_records (record_type, deleted, due_on, status);
-- The date indexes also carry what progress against plan sums (index-only aggregation).
CREATE INDEX sync_records_reg_date ON sync_records (record_type, deleted, date_on, area_id, programme, planned_units);
CREATE INDEX sync_records_reg_finished ON sync_records (record_type, deleted, finished_on, area_id, programme, planned_units, completed_units);
