DROP INDEX tickets_open_overdue;
DROP TABLE stats_board_daily;
