-- +goose Up
-- Ids, states, stages and notifier names are identifiers compared as bytes,
-- as SQLite compares them. Under a database's linguistic collation every
-- btree comparison of these keys went through strcoll; with COLLATE "C" it
-- is a memcmp.
ALTER TABLE tickets ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN sla_state TYPE text COLLATE "C";
ALTER TABLE ticket_events ALTER COLUMN ticket_id TYPE text COLLATE "C";
ALTER TABLE ticket_schedule ALTER COLUMN ticket_id TYPE text COLLATE "C";
ALTER TABLE alerts ALTER COLUMN ticket_id TYPE text COLLATE "C", ALTER COLUMN clock TYPE text COLLATE "C",
    ALTER COLUMN stage TYPE text COLLATE "C";
ALTER TABLE deliveries ALTER COLUMN notifier TYPE text COLLATE "C";

-- +goose Down
ALTER TABLE deliveries ALTER COLUMN notifier TYPE text COLLATE "default";
ALTER TABLE alerts ALTER COLUMN ticket_id TYPE text COLLATE "default", ALTER COLUMN clock TYPE text COLLATE "default",
    ALTER COLUMN stage TYPE text COLLATE "default";
ALTER TABLE ticket_schedule ALTER COLUMN ticket_id TYPE text COLLATE "default";
ALTER TABLE ticket_events ALTER COLUMN ticket_id TYPE text COLLATE "default";
ALTER TABLE tickets ALTER COLUMN id TYPE text COLLATE "default", ALTER COLUMN sla_state TYPE text COLLATE "default";
