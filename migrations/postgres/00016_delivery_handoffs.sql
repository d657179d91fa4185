-- +goose Up
-- A delivery an evaluation hands to its own process to send gets its
-- deliveries row once, when its outcome is recorded, instead of being
-- inserted claimed and then updated. Until then its intent is kept here:
-- one row per evaluation, holder and notifier, naming the deliveries (ids
-- drawn from deliveries_id_seq) and their alerts. Reads of deliveries see
-- them as pending, claimed by holder until until, as the claimed row was.
-- The holder deletes its row once every delivery it names has a row; the
-- rescue of a dead holder, or a claim after until, writes the rows still
-- missing and deletes it.
CREATE TABLE delivery_handoffs (
    id           bigserial        PRIMARY KEY,
    holder       text COLLATE "C" NOT NULL,
    notifier     text COLLATE "C" NOT NULL,
    until        timestamptz      NOT NULL,
    delivery_ids bigint[]         NOT NULL,
    alert_ids    bigint[]         NOT NULL
);
-- The id arrays (8 KB each for a pass of 1,000) are stored out of line
-- uncompressed: pglz took 0.57 ms a row to compress them, out of line
-- uncompressed 0.18 (200 rows of two 1,000-id arrays).
ALTER TABLE delivery_handoffs ALTER COLUMN delivery_ids SET STORAGE EXTERNAL,
    ALTER COLUMN alert_ids SET STORAGE EXTERNAL;
CREATE INDEX delivery_handoffs_holder_idx ON delivery_handoffs (holder);
CREATE INDEX delivery_handoffs_until_idx ON delivery_handoffs (notifier, until);

-- +goose Down
-- The deliveries still handed off are written out as the claimed rows a
-- server from before this table expects.
INSERT INTO deliveries (id, alert_id, notifier, next_attempt_at, attempts, holder, status)
    SELECT u.id, u.alert_id, h.notifier, h.until, 1, h.holder, 'pending'
    FROM delivery_handoffs h, unnest(h.delivery_ids, h.alert_ids) AS u(id, alert_id)
    ON CONFLICT DO NOTHING;
DROP TABLE delivery_handoffs;
