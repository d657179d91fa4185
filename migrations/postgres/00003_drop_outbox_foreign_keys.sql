-- +goose Up
-- Alerts and their deliveries are written only by the evaluation that fires
-- them, in one transaction that holds the ticket's row lock, and nothing
-- deletes tickets or alerts, so the two foreign keys checked nothing those
-- writes do not already guarantee. They were not free: each inserted row ran
-- a trigger that looked up and share-locked its parent, about a quarter of
-- the time a burst of due tickets spends recording its alerts (measured with
-- BenchmarkFireDue in store/postgres). The unique keys that make each stage
-- and each delivery exist once stay.
ALTER TABLE alerts DROP CONSTRAINT IF EXISTS alerts_ticket_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_alert_id_fkey;

-- +goose Down
ALTER TABLE deliveries ADD CONSTRAINT deliveries_alert_id_fkey
    FOREIGN KEY (alert_id) REFERENCES alerts (id) ON DELETE CASCADE;
ALTER TABLE alerts ADD CONSTRAINT alerts_ticket_id_fkey
    FOREIGN KEY (ticket_id) REFERENCES tickets (id) ON DELETE CASCADE;
