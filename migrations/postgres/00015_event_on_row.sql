-- +goose Up
-- From here on the store keeps the one event of a ticket created by a single
-- event on the ticket's row alone, with no ticket_events row: a ticket with
-- no timeline rows has its row's fields as its one event. The second event
-- writes both to ticket_events. Nothing to change in the schema; the version
-- marks the rule, and going down writes out the events the rows hold, so
-- that a store before the rule finds every timeline complete.
SELECT 1;

-- +goose Down
INSERT INTO ticket_events (ticket_id, updated_at, status, priority, customer_tier, created_at,
        first_response_at, attributes, tags)
    SELECT t.id, t.updated_at, t.status, t.priority, t.customer_tier, t.created_at,
        t.first_response_at, t.attributes, t.tags
    FROM tickets t
    WHERE NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id);
