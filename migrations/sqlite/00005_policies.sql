-- +goose Up
-- SLA policies chosen by conditions, and the next-reply and periodic-update
-- clocks (see the PostgreSQL migration of the same name). An alert's cycle
-- column is its cycle's identity in the unique key: the cycle's start in
-- Unix microseconds for the cycle clocks, 0 for response and resolution.
ALTER TABLE tickets ADD COLUMN policy TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN attributes TEXT;
ALTER TABLE tickets ADD COLUMN tags TEXT;
ALTER TABLE ticket_events ADD COLUMN attributes TEXT;
ALTER TABLE ticket_events ADD COLUMN tags TEXT;
CREATE TABLE ticket_messages (
    ticket_id TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    author    TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, at, author)
) WITHOUT ROWID;
ALTER TABLE alerts ADD COLUMN cycle_ordinal INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN cycle_started_at INTEGER;
ALTER TABLE alerts ADD COLUMN policy TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE alerts DROP COLUMN policy;
ALTER TABLE alerts DROP COLUMN cycle_started_at;
ALTER TABLE alerts DROP COLUMN cycle_ordinal;
DROP TABLE ticket_messages;
ALTER TABLE ticket_events DROP COLUMN tags;
ALTER TABLE ticket_events DROP COLUMN attributes;
ALTER TABLE tickets DROP COLUMN tags;
ALTER TABLE tickets DROP COLUMN attributes;
ALTER TABLE tickets DROP COLUMN policy;
