DROP TABLE sync_ticket_copies_pending;
DROP INDEX sync_records_closed_tickets;
DROP INDEX sync_records_tombstones;
