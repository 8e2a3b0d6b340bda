-- Fund summaries are caught up only when due (issue 12): the day a project's supervision flags
-- can next change (an unspent receipt turns idle, or an idle one's day count moves on), or at
-- once when the project record itself changed (progress, unit, area, name). The catch-up reads
-- this index of what is due, in bounded batches; a project with nothing date-dependent has no row.
CREATE TABLE fund_summary_due (
    project_id TEXT PRIMARY KEY NOT NULL,
    due_on TEXT NOT NULL
);
CREATE INDEX fund_summary_due_on ON fund_summary_due (due_on);
-- Every project with ledger entries is looked at once after the upgrade.
INSERT INTO fund_summary_due (project_id, due_on)
    SELECT DISTINCT project_id, '0001-01-01' FROM fund_entries;
