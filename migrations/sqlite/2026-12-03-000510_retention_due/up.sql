-- Periodic jobs read only what is due (issue 12). Sync retention walks the tombstones in change
-- order from the horizon; the ticket-copy expiry reads closed ticket copies by age; the one-time
-- catch-up of tickets filed before ticket copies existed walks the tickets by id from `after`
-- and removes its row when it reaches the end.
CREATE INDEX sync_records_tombstones ON sync_records (change_seq, updated_at) WHERE deleted;
CREATE INDEX sync_records_closed_tickets ON sync_records (updated_at)
    WHERE record_type = 'ticket' AND NOT deleted AND status = 'closed';
CREATE TABLE sync_ticket_copies_pending (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    after TEXT NOT NULL
);
INSERT INTO sync_ticket_copies_pending (id, after) VALUES (1, '');
