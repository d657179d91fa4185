-- +goose Up
-- Tickets hold each ticket's current fields (from its latest event) and the
-- SLA columns the engine derived at its last evaluation. fillfactor leaves
-- room on each page so that re-ingesting a ticket can be a HOT update.
CREATE TABLE tickets (
    id                text        PRIMARY KEY,
    priority          text        NOT NULL,
    customer_tier     text        NOT NULL,
    status            text        NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    first_response_at timestamptz,
    escalation_level  integer     NOT NULL DEFAULT 0,
    sla_state         text        NOT NULL DEFAULT 'untracked',
    untracked_reason  text        NOT NULL DEFAULT '',
    open              boolean     NOT NULL DEFAULT true,
    next_due_at       timestamptz,
    breach_at         timestamptz
) WITH (fillfactor = 85);

-- Claiming due work reads only the due end of this index.
CREATE INDEX tickets_next_due_at_idx ON tickets (next_due_at) WHERE next_due_at IS NOT NULL;
-- Dashboard filters and orders. Tier and priority filters have too few
-- distinct values to pay for an index on every ticket write (each secondary
-- index costs about as much as the row itself at ingest); they filter while
-- one of these indexes gives the order.
CREATE INDEX tickets_state_created_idx ON tickets (sla_state, created_at DESC, id);
CREATE INDEX tickets_open_breach_idx ON tickets (breach_at, id) WHERE open;
CREATE INDEX tickets_created_idx ON tickets (created_at DESC, id);

-- The timeline: one row per distinct (ticket, updated_at).
CREATE TABLE ticket_events (
    ticket_id         text        NOT NULL,
    updated_at        timestamptz NOT NULL,
    status            text        NOT NULL,
    priority          text        NOT NULL,
    customer_tier     text        NOT NULL,
    created_at        timestamptz NOT NULL,
    first_response_at timestamptz,
    PRIMARY KEY (ticket_id, updated_at)
);

-- One row per (ticket, clock, stage, cycle): the unique key is what makes a
-- stage fire once however many evaluators race.
CREATE TABLE alerts (
    id               bigserial   PRIMARY KEY,
    ticket_id        text        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    clock            text        NOT NULL,
    stage            text        NOT NULL,
    cycle            integer     NOT NULL,
    state            text        NOT NULL,
    due_at           timestamptz NOT NULL,
    fired_at         timestamptz NOT NULL,
    escalation_level integer     NOT NULL,
    priority         text        NOT NULL,
    customer_tier    text        NOT NULL,
    target_ns        bigint      NOT NULL,
    elapsed_ns       bigint      NOT NULL,
    details          text        NOT NULL,
    UNIQUE (ticket_id, clock, stage, cycle)
);

-- The delivery outbox: one row per alert and notifier.
CREATE TABLE deliveries (
    id              bigserial   PRIMARY KEY,
    alert_id        bigint      NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    notifier        text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text        NOT NULL DEFAULT '',
    delivered_at    timestamptz,
    UNIQUE (alert_id, notifier)
);

-- Each notifier claims its own pending deliveries, oldest first.
CREATE INDEX deliveries_pending_idx ON deliveries (notifier, next_attempt_at) WHERE status = 'pending';

-- +goose Down
DROP TABLE deliveries;
DROP TABLE alerts;
DROP TABLE ticket_events;
DROP TABLE tickets;
