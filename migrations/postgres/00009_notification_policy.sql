-- +goose Up
-- A delivery held outside its route's delivery hours (deliver_during) is
-- due at held_until, when the calendar opens; NULL for any other.
ALTER TABLE deliveries ADD COLUMN held_until timestamptz;

-- Who had acknowledged the alert's clock when it was recorded ('' for
-- nobody): shown on the alert stream and in Slack messages.
ALTER TABLE alerts ADD COLUMN acknowledged_by text NOT NULL DEFAULT '';

-- Acknowledgements: one per ticket and SLA clock. An acknowledged clock's
-- later stages of the same cycle are recorded but not sent.
CREATE TABLE acks (
    ticket_id text        COLLATE "C" NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    clock     text        NOT NULL,
    cycle     bigint      NOT NULL, -- StageKey.Cycle: 0, or the cycle's start in Unix µs
    acked_by  text        NOT NULL,
    note      text        NOT NULL DEFAULT '',
    until     timestamptz,
    acked_at  timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, clock)
);

-- +goose Down
DROP TABLE acks;
ALTER TABLE alerts DROP COLUMN acknowledged_by;
ALTER TABLE deliveries DROP COLUMN held_until;
