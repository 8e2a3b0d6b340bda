DROP TABLE fund_summary_due;
