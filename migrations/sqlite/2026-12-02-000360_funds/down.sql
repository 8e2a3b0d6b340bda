DROP TABLE fund_entries;
