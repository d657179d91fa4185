-- +goose Up
-- The instant of the last ingest or policy change that found stages of the
-- ticket already due (watchdog.Ticket.BackfilledAt): stages due by then are
-- counted as backfilled rather than late when they fire. NULL for tickets
-- stored before, which is what they would have had unless such a commit was
-- waiting for the scheduler during the upgrade.
ALTER TABLE tickets ADD COLUMN backfilled_at INTEGER;

-- +goose Down
ALTER TABLE tickets DROP COLUMN backfilled_at;
