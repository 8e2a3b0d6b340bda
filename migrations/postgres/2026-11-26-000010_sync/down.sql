DROP TABLE attachments;
DROP TABLE sync_rejections;
DROP TABLE sync_conflicts;
DROP TABLE sync_device_seqs;
DROP TABLE sync_scopes;
DROP TABLE sync_scope_exits;
DROP TABLE sync_records;
DROP TABLE sync_counter;
