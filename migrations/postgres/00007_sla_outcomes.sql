-- +goose Up
-- One row per (ticket, SLA clock, cycle): the clock's outcome, in progress
-- (stopped_at NULL) or stopped, met or missed (watchdog.Outcome). Written in
-- the transaction that stores the event that changed it; reports aggregate
-- it. Times in whole seconds of business time, except paused_seconds (wall
-- time). No foreign key: tickets are never deleted, and each key costs at
-- ingest.
CREATE TABLE sla_outcomes (
    ticket_id        text COLLATE "C" NOT NULL,
    sla_type         text COLLATE "C" NOT NULL,
    cycle            integer     NOT NULL,
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
    PRIMARY KEY (ticket_id, sla_type, cycle)
);

-- Reports select stopped clocks by their stop, and clocks by their start
-- (those in progress always so).
CREATE INDEX sla_outcomes_stopped_idx ON sla_outcomes (stopped_at) WHERE stopped_at IS NOT NULL;
CREATE INDEX sla_outcomes_started_idx ON sla_outcomes (started_at);

-- +goose Down
DROP TABLE sla_outcomes;
