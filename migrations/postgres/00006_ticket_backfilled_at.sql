-- +goose Up
-- The instant of the last ingest or policy change that found stages of the
-- ticket already due (watchdog.Ticket.BackfilledAt): stages due by then are
-- counted as backfilled rather than late when they fire. A nullable column
-- without a default: adding it rewrites nothing.
ALTER TABLE tickets ADD COLUMN backfilled_at timestamptz;

-- +goose Down
ALTER TABLE tickets DROP COLUMN backfilled_at;
