-- +goose Up
-- A hand-off names its deliveries as [delivery id, alert id] pairs in one
-- JSON array, read with one json_each. Two arrays paired by position made
-- SQLite join every element of one against every element of the other (a
-- table-valued function has no index): 2,000 deliveries took 0.3 s to pair
-- and 8,000 took 5 s, so the rescue of a killed server's hand-offs ran past
-- its time limit. min_alert and max_alert bound its alerts' ids, so that a
-- read of a few alerts skips the hand-offs that cannot name them.
ALTER TABLE delivery_handoffs ADD COLUMN pairs TEXT NOT NULL DEFAULT '[]';
ALTER TABLE delivery_handoffs ADD COLUMN min_alert INTEGER NOT NULL DEFAULT 0;
ALTER TABLE delivery_handoffs ADD COLUMN max_alert INTEGER NOT NULL DEFAULT 0;
UPDATE delivery_handoffs SET
    pairs = (SELECT json_group_array(json_array(d.value, delivery_handoffs.alert_ids ->> d.key))
        FROM json_each(delivery_handoffs.delivery_ids) d),
    min_alert = coalesce((SELECT min(value) FROM json_each(delivery_handoffs.alert_ids)), 0),
    max_alert = coalesce((SELECT max(value) FROM json_each(delivery_handoffs.alert_ids)), 0);
ALTER TABLE delivery_handoffs DROP COLUMN delivery_ids;
ALTER TABLE delivery_handoffs DROP COLUMN alert_ids;

-- +goose Down
ALTER TABLE delivery_handoffs ADD COLUMN delivery_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE delivery_handoffs ADD COLUMN alert_ids TEXT NOT NULL DEFAULT '[]';
UPDATE delivery_handoffs SET
    delivery_ids = (SELECT json_group_array(p.value ->> 0 ORDER BY p.key) FROM json_each(delivery_handoffs.pairs) p),
    alert_ids = (SELECT json_group_array(p.value ->> 1 ORDER BY p.key) FROM json_each(delivery_handoffs.pairs) p);
ALTER TABLE delivery_handoffs DROP COLUMN pairs;
ALTER TABLE delivery_handoffs DROP COLUMN min_alert;
ALTER TABLE delivery_handoffs DROP COLUMN max_alert;
