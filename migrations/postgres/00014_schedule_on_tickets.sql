-- +goose Up
-- The due instants go back onto tickets (00002 moved them out). A firing now
-- changes the ticket's sla_state, which an index holds, so its tickets row is
-- rewritten with a new entry in every index anyway; the schedule's own row
-- was a second non-HOT update (a heap tuple and two index entries) on top of
-- it, and at ingest a second row and two entries for every new ticket. One
-- more partial index on tickets costs one entry where those cost three.
CREATE INDEX tickets_next_due_at_idx ON tickets (next_due_at) WHERE next_due_at IS NOT NULL;
DROP TABLE ticket_schedule;

-- +goose Down
CREATE TABLE ticket_schedule (
    ticket_id   text COLLATE "C" PRIMARY KEY,
    next_due_at timestamptz NOT NULL
);
CREATE INDEX ticket_schedule_due_idx ON ticket_schedule (next_due_at);
INSERT INTO ticket_schedule (ticket_id, next_due_at)
    SELECT id, next_due_at FROM tickets WHERE next_due_at IS NOT NULL;
DROP INDEX tickets_next_due_at_idx;
