-- +goose Up
-- The due instants move to a narrow table of their own. With next_due_at
-- indexed on tickets, every evaluation that pushed a ticket's next due
-- instant forward (nearly all of them) was a non-HOT update: a new heap
-- tuple plus a new entry in each of the table's five indexes. Here it is a
-- small row and two index entries, and the tickets row is not written at all
-- when nothing else changed. tickets.next_due_at stays as an unindexed copy
-- (kept equal under the ticket's row lock) so that reads need no join.
-- Only tickets with a due instant have a row.
CREATE TABLE ticket_schedule (
    ticket_id   text        PRIMARY KEY,
    next_due_at timestamptz NOT NULL
);
CREATE INDEX ticket_schedule_due_idx ON ticket_schedule (next_due_at);
INSERT INTO ticket_schedule (ticket_id, next_due_at)
    SELECT id, next_due_at FROM tickets WHERE next_due_at IS NOT NULL;
DROP INDEX tickets_next_due_at_idx;

-- +goose Down
CREATE INDEX tickets_next_due_at_idx ON tickets (next_due_at) WHERE next_due_at IS NOT NULL;
DROP TABLE ticket_schedule;
