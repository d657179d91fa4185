-- +goose Up
-- A delivery an evaluation hands to its own process to send gets its
-- deliveries row once, when its outcome is recorded (see the PostgreSQL
-- migration of the same name). Until then one row per evaluation, holder
-- and notifier names the deliveries (JSON arrays of their ids and their
-- alerts' ids); last_id is the highest delivery id it names, which the
-- next ids drawn must follow. Its own id is never reused: the store that
-- wrote it remembers it by that id until it deletes it.
CREATE TABLE delivery_handoffs (
    id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    holder       TEXT    NOT NULL,
    notifier     TEXT    NOT NULL,
    until        INTEGER NOT NULL,
    last_id      INTEGER NOT NULL,
    delivery_ids TEXT    NOT NULL,
    alert_ids    TEXT    NOT NULL
);
CREATE INDEX delivery_handoffs_holder_idx ON delivery_handoffs (holder);
CREATE INDEX delivery_handoffs_until_idx ON delivery_handoffs (notifier, until);

-- +goose Down
-- The deliveries still handed off are written out as the claimed rows a
-- server from before this table expects.
INSERT INTO deliveries (id, alert_id, notifier, next_attempt_at, attempts, holder, status)
    SELECT d.value, a.value, h.notifier, h.until, 1, h.holder, 'pending'
    FROM delivery_handoffs h, json_each(h.delivery_ids) d JOIN json_each(h.alert_ids) a ON a.key = d.key
    WHERE true
    ON CONFLICT DO NOTHING;
DROP TABLE delivery_handoffs;
