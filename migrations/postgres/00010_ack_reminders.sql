-- +goose Up
-- When a route's ack_timeout reminder about the acknowledgement went out
-- (NULL: not yet); a new acknowledgement of the clock clears it.
ALTER TABLE acks ADD COLUMN reminded_at timestamptz;

-- +goose Down
ALTER TABLE acks DROP COLUMN reminded_at;
