-- +goose Up
-- A delivery held outside its route's delivery hours (deliver_during) is
-- due at held_until (Unix microseconds), when the calendar opens; NULL for
-- any other.
ALTER TABLE deliveries ADD COLUMN held_until INTEGER;

-- Who had acknowledged the alert's clock when it was recorded ('' for
-- nobody): shown on the alert stream and in Slack messages.
ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';

-- Acknowledgements: one per ticket and SLA clock. An acknowledged clock's
-- later stages of the same cycle are recorded but not sent.
CREATE TABLE acks (
    ticket_id TEXT    NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    clock     TEXT    NOT NULL,
    cycle     INTEGER NOT NULL,
    acked_by  TEXT    NOT NULL,
    note      TEXT    NOT NULL DEFAULT '',
    until     INTEGER,
    acked_at  INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, clock)
);

-- +goose Down
DROP TABLE acks;
ALTER TABLE alerts DROP COLUMN acknowledged_by;
ALTER TABLE deliveries DROP COLUMN held_until;
