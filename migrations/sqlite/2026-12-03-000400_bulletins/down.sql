DROP INDEX register_record_versions_type;
DROP TRIGGER bulletins_issued_kept;
DROP TRIGGER bulletins_issued_frozen;
DROP TABLE bulletin_counters;
DROP TABLE bulletins;
