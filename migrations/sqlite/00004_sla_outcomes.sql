-- +goose Up
-- One row per (ticket, SLA clock, cycle): the clock's outcome, in progress
-- (stopped_at NULL) or stopped, met or missed (watchdog.Outcome). Written in
-- the transaction that stores the event that changed it; reports aggregate
-- it. Times are unix microseconds; durations whole seconds of business time,
-- except paused_seconds (wall time).
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
    PRIMARY KEY (ticket_id, sla_type, cycle)
);

-- Reports select stopped clocks by their stop, and clocks by their start
-- (those in progress always so).
CREATE INDEX sla_outcomes_stopped_idx ON sla_outcomes (stopped_at) WHERE stopped_at IS NOT NULL;
CREATE INDEX sla_outcomes_started_idx ON sla_outcomes (started_at);

-- +goose Down
DROP TABLE sla_outcomes;
