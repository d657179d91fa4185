-- +goose Up
-- One row per (ticket, SLA clock, cycle) that stopped at least once (and
-- per cycle of the next-reply and periodic-update clocks, in progress
-- too): the
-- clock's outcome, met or missed, or in progress again after a reopen
-- (stopped_at NULL) (watchdog.Outcome). Written in the transaction that
-- stores the event that changed it; reports aggregate it. A rowid table
-- (not clustered by its key): an export reads rows found through the stop
-- index by rowid, much cheaper than a search by the text key. Times are
-- unix microseconds; durations whole seconds of business time, except
-- paused_seconds (wall time).
-- cycle is the cycle's identity, as an alert's: its start in Unix
-- microseconds for the next-reply and periodic-update clocks, 0 for
-- response and resolution; cycle_ordinal the number shown (1, 2, ...), which
-- a late message inserting an earlier cycle changes. policy is the policy
-- in force that gave the target.
CREATE TABLE sla_outcomes (
    ticket_id        TEXT    NOT NULL,
    sla_type         TEXT    NOT NULL,
    cycle            INTEGER NOT NULL,
    policy           TEXT    NOT NULL,
    tier             TEXT    NOT NULL,
    priority         TEXT    NOT NULL,
    calendar         TEXT    NOT NULL,
    target_seconds   INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    stopped_at       INTEGER,
    business_seconds INTEGER NOT NULL,
    paused_seconds   INTEGER NOT NULL,
    breached         INTEGER NOT NULL,
    breach_at        INTEGER,
    overrun_seconds  INTEGER NOT NULL,
    recorded_at      INTEGER,
    cycle_ordinal    INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, sla_type, cycle)
);

-- Reports select stopped clocks by their stop.
-- The stop index covers what a report reads of a stopped clock: without
-- it, each row found would be a search of the table by its key.
CREATE INDEX sla_outcomes_stopped_idx ON sla_outcomes (stopped_at, policy, tier, priority, sla_type, calendar, breached,
    business_seconds, overrun_seconds) WHERE stopped_at IS NOT NULL;
-- Reopened clocks (in progress again) by their start; reports by start
-- (by=started) read the table whole rather than make every stopped row
-- pay for another index at ingest.
CREATE INDEX sla_outcomes_reopened_idx ON sla_outcomes (started_at) WHERE stopped_at IS NULL;

-- A ticket's clocks in progress that never stopped live on its row
-- (watchdog.OpenClocks), so that storing a new ticket writes no outcome
-- rows: the calendar of its clocks ('' until its outcomes are derived: the
-- start-up backfill finds those), which clocks are open (1 response, 2
-- resolution) and when each reaches its target. Reports count them in
-- progress by the ticket's creation, reading the open tickets through the
-- index of open tickets there is (an index of their own would cost every
-- ingest as much as the rows these columns spare).
ALTER TABLE tickets ADD COLUMN sla_calendar TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN open_clocks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN response_breach_at INTEGER;
ALTER TABLE tickets ADD COLUMN resolution_breach_at INTEGER;

-- +goose Down
ALTER TABLE tickets DROP COLUMN resolution_breach_at;
ALTER TABLE tickets DROP COLUMN response_breach_at;
ALTER TABLE tickets DROP COLUMN open_clocks;
ALTER TABLE tickets DROP COLUMN sla_calendar;
DROP TABLE sla_outcomes;
