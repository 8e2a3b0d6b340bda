DROP INDEX register_record_versions_type;
DROP TRIGGER bulletins_issued_frozen ON bulletins;
DROP FUNCTION bulletins_refuse_issued_change();
DROP TABLE bulletin_counters;
DROP TABLE bulletins;
