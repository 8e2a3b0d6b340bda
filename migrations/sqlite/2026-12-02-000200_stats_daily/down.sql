DROP TABLE stats_backfill;
DROP TABLE stats_public_hours;
DROP TABLE stats_public_daily;
DROP TABLE stats_unit_hours;
DROP TABLE stats_unit_daily;
