-- +goose Up
-- SLA policies chosen by conditions, and the next-reply and periodic-update
-- clocks. Tickets keep the policy in force (the dashboard filters on it) and
-- their current attributes and tags as JSON (NULL when none); each event
-- keeps the attributes and tags it carried (NULL when absent, which keeps
-- the ticket's; '{}' or '[]' clears them), so that a late event cannot
-- override a later one's. Messages are the ticket's, one row per (author,
-- instant), whichever event brought them.
ALTER TABLE tickets ADD COLUMN policy text COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN attributes text, ADD COLUMN tags text;
ALTER TABLE ticket_events ADD COLUMN attributes text, ADD COLUMN tags text;
CREATE TABLE ticket_messages (
    ticket_id text        COLLATE "C" NOT NULL,
    at        timestamptz NOT NULL,
    author    text        COLLATE "C" NOT NULL,
    PRIMARY KEY (ticket_id, at, author)
);
-- An alert's cycle column is its cycle's identity, in the unique key: the
-- cycle's start in Unix microseconds for the cycle clocks (0 for response
-- and resolution, as before), so that late messages which renumber cycles
-- never make two cycles share a key. cycle_ordinal is the number shown.
ALTER TABLE alerts ALTER COLUMN cycle TYPE bigint,
    ADD COLUMN cycle_ordinal integer NOT NULL DEFAULT 0,
    ADD COLUMN cycle_started_at timestamptz,
    ADD COLUMN policy text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE alerts DROP COLUMN policy, DROP COLUMN cycle_started_at, DROP COLUMN cycle_ordinal;
DELETE FROM alerts WHERE cycle > 2147483647;
ALTER TABLE alerts ALTER COLUMN cycle TYPE integer;
DROP TABLE ticket_messages;
ALTER TABLE ticket_events DROP COLUMN tags, DROP COLUMN attributes;
ALTER TABLE tickets DROP COLUMN tags, DROP COLUMN attributes, DROP COLUMN policy;
