-- +goose Up
-- Claims of deliveries are kept by their holder's heartbeat rather than a
-- long lease: a claimed row names its holder, each holder renews its row
-- in delivery_holders, and any engine frees the pending deliveries of a
-- holder whose heartbeat ran out. So a delivery queued by a process that
-- died waits for seconds, not for a lease.
ALTER TABLE deliveries ADD COLUMN holder text COLLATE "C";
CREATE INDEX deliveries_holder_idx ON deliveries (holder) WHERE status = 'pending' AND holder IS NOT NULL;
CREATE TABLE delivery_holders (
    id         text COLLATE "C" PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE delivery_holders;
DROP INDEX deliveries_holder_idx;
ALTER TABLE deliveries DROP COLUMN holder;
