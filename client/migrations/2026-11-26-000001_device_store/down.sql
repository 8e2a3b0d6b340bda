DROP TABLE photos;
DROP TABLE rejected;
DROP TABLE conflicts;
DROP TABLE acked;
DROP TABLE outbox;
DROP TABLE records;
DROP TABLE device_state;
