-- +goose Up
-- A ticket created by one event now keeps that event on its row alone: a
-- ticket with no timeline rows has its row's fields as its one event, and
-- its second event writes both to the timeline. The table is renamed with
-- the rule, so that a server from before it, still running beside one
-- from after it (in a rolling deployment), fails on the timeline loudly,
-- and retries go to the new one, instead of reading such a ticket as one
-- without events and losing its first event on the next ingest.
ALTER TABLE ticket_events RENAME TO ticket_timeline;
ALTER INDEX ticket_events_pkey RENAME TO ticket_timeline_pkey;

-- +goose Down
-- The events the rows hold are written out first, so that a server from
-- before the rule finds every timeline whole.
INSERT INTO ticket_timeline (ticket_id, updated_at, status, priority, customer_tier, created_at,
        first_response_at, attributes, tags)
    SELECT t.id, t.updated_at, t.status, t.priority, t.customer_tier, t.created_at,
        t.first_response_at, t.attributes, t.tags
    FROM tickets t
    WHERE NOT EXISTS (SELECT 1 FROM ticket_timeline e WHERE e.ticket_id = t.id);
ALTER INDEX ticket_timeline_pkey RENAME TO ticket_events_pkey;
ALTER TABLE ticket_timeline RENAME TO ticket_events;
