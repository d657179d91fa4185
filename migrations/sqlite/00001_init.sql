-- +goose Up
-- Times are INTEGER unix microseconds (UTC): exact, compact and cheap to
-- compare. Tier and priority compare case-insensitively (COLLATE NOCASE), so
-- the dashboard filters and their index agree.

-- Tickets hold each ticket's current fields (from its latest event) and the
-- SLA columns the engine derived at its last evaluation.
CREATE TABLE tickets (
    id                TEXT    NOT NULL PRIMARY KEY,
    priority          TEXT    NOT NULL COLLATE NOCASE,
    customer_tier     TEXT    NOT NULL COLLATE NOCASE,
    status            TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    first_response_at INTEGER,
    escalation_level  INTEGER NOT NULL DEFAULT 0,
    sla_state         TEXT    NOT NULL DEFAULT 'untracked',
    untracked_reason  TEXT    NOT NULL DEFAULT '',
    open              INTEGER NOT NULL DEFAULT 1,
    next_due_at       INTEGER,
    breach_at         INTEGER
);

-- Claiming due work reads only the due end of this index.
CREATE INDEX tickets_next_due_at_idx ON tickets (next_due_at) WHERE next_due_at IS NOT NULL;
-- Dashboard filters and orders.
CREATE INDEX tickets_state_created_idx ON tickets (sla_state, created_at DESC, id);
CREATE INDEX tickets_tier_priority_idx ON tickets (customer_tier, priority);
CREATE INDEX tickets_open_breach_idx ON tickets (breach_at, id) WHERE open;
CREATE INDEX tickets_created_idx ON tickets (created_at DESC, id);

-- The timeline: one row per distinct (ticket, updated_at), stored clustered
-- by ticket so that loading a timeline reads adjacent rows.
CREATE TABLE ticket_events (
    ticket_id         TEXT    NOT NULL,
    updated_at        INTEGER NOT NULL,
    status            TEXT    NOT NULL,
    priority          TEXT    NOT NULL,
    customer_tier     TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    first_response_at INTEGER,
    PRIMARY KEY (ticket_id, updated_at)
) WITHOUT ROWID;

-- One row per (ticket, clock, stage, cycle): the unique key is what makes a
-- stage fire once.
CREATE TABLE alerts (
    id               INTEGER NOT NULL PRIMARY KEY,
    ticket_id        TEXT    NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    clock            TEXT    NOT NULL,
    stage            TEXT    NOT NULL,
    cycle            INTEGER NOT NULL,
    state            TEXT    NOT NULL,
    due_at           INTEGER NOT NULL,
    fired_at         INTEGER NOT NULL,
    escalation_level INTEGER NOT NULL,
    priority         TEXT    NOT NULL,
    customer_tier    TEXT    NOT NULL,
    target_ns        INTEGER NOT NULL,
    elapsed_ns       INTEGER NOT NULL,
    details          TEXT    NOT NULL,
    UNIQUE (ticket_id, clock, stage, cycle)
);

-- The delivery outbox: one row per alert and notifier.
CREATE TABLE deliveries (
    id              INTEGER NOT NULL PRIMARY KEY,
    alert_id        INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    notifier        TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    delivered_at    INTEGER,
    UNIQUE (alert_id, notifier)
);

-- Each notifier claims its own pending deliveries, oldest first.
CREATE INDEX deliveries_pending_idx ON deliveries (notifier, next_attempt_at, id) WHERE status = 'pending';

-- +goose Down
DROP TABLE deliveries;
DROP TABLE alerts;
DROP TABLE ticket_events;
DROP TABLE tickets;
