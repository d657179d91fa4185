-- +goose Up
-- One row per (ticket, SLA clock, cycle) that stopped at least once (and
-- per cycle of the next-reply and periodic-update clocks, in progress
-- too): the
-- clock's outcome, met or missed, or in progress again after a reopen
-- (stopped_at NULL) (watchdog.Outcome). Written in
-- the transaction that stores the event that changed it; reports aggregate
-- it. Times in whole seconds of business time, except paused_seconds (wall
-- time). No foreign key: tickets are never deleted, and each key costs at
-- ingest.
-- cycle is the cycle's identity, as an alert's: its start in Unix
-- microseconds for the next-reply and periodic-update clocks, 0 for
-- response and resolution; cycle_ordinal the number shown (1, 2, ...), which
-- a late message inserting an earlier cycle changes. policy is the policy
-- in force that gave the target.
CREATE TABLE sla_outcomes (
    ticket_id        text COLLATE "C" NOT NULL,
    sla_type         text COLLATE "C" NOT NULL,
    cycle            bigint      NOT NULL,
    policy           text        NOT NULL,
    tier             text        NOT NULL,
    priority         text        NOT NULL,
    calendar         text        NOT NULL,
    target_seconds   bigint      NOT NULL,
    started_at       timestamptz NOT NULL,
    stopped_at       timestamptz,
    business_seconds bigint      NOT NULL,
    paused_seconds   bigint      NOT NULL,
    breached         boolean     NOT NULL,
    breach_at        timestamptz,
    overrun_seconds  bigint      NOT NULL,
    recorded_at      timestamptz,
    cycle_ordinal    integer     NOT NULL,
    PRIMARY KEY (ticket_id, sla_type, cycle)
);

-- Reports select stopped clocks by their stop. The stop index covers what a report reads
-- of a stopped clock, so that reports over a vacuumed table are
-- index-only scans.
CREATE INDEX sla_outcomes_stopped_idx ON sla_outcomes (stopped_at)
    INCLUDE (policy, tier, priority, sla_type, calendar, breached, breach_at, business_seconds, overrun_seconds)
    WHERE stopped_at IS NOT NULL;
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
-- ingest as much as the rows these columns spare). Columns with constant defaults: adding
-- them rewrites nothing.
ALTER TABLE tickets ADD COLUMN sla_calendar text NOT NULL DEFAULT '',
    ADD COLUMN open_clocks smallint NOT NULL DEFAULT 0,
    ADD COLUMN response_breach_at timestamptz,
    ADD COLUMN resolution_breach_at timestamptz;

-- +goose Down
ALTER TABLE tickets DROP COLUMN resolution_breach_at, DROP COLUMN response_breach_at,
    DROP COLUMN open_clocks, DROP COLUMN sla_calendar;
DROP TABLE sla_outcomes;
