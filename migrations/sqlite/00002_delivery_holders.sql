-- +goose Up
-- Claims of deliveries are kept by their holder's heartbeat rather than a
-- long lease (see the PostgreSQL migration of the same name).
ALTER TABLE deliveries ADD COLUMN holder TEXT;
CREATE INDEX deliveries_holder_idx ON deliveries (holder) WHERE status = 'pending' AND holder IS NOT NULL;
CREATE TABLE delivery_holders (
    id         TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE delivery_holders;
DROP INDEX deliveries_holder_idx;
ALTER TABLE deliveries DROP COLUMN holder;
