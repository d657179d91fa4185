-- +goose Up
-- When a route's ack_timeout reminder about the acknowledgement went out
-- (Unix microseconds; NULL: not yet); a new acknowledgement of the clock
-- clears it.
ALTER TABLE acks ADD COLUMN reminded_at INTEGER;

-- +goose Down
ALTER TABLE acks DROP COLUMN reminded_at;
