-- The scratch table of scratch-ticket-update.py: the tickets' columns but
-- attributes and tags, their indexes as the migrations leave them, 300,000 rows. Drop it after with
-- DROP SCHEMA scratch_ma CASCADE.
CREATE SCHEMA IF NOT EXISTS scratch_ma;
SET search_path=scratch_ma;
DROP TABLE IF EXISTS tk;
CREATE TABLE tk (
    id text COLLATE "C" PRIMARY KEY, priority text NOT NULL, customer_tier text NOT NULL, status text NOT NULL,
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, first_response_at timestamptz,
    escalation_level integer NOT NULL DEFAULT 0, sla_state text COLLATE "C" NOT NULL DEFAULT 'untracked',
    untracked_reason text NOT NULL DEFAULT '', open boolean NOT NULL DEFAULT true, next_due_at timestamptz, breach_at timestamptz,
    backfilled_at timestamptz, sla_calendar text NOT NULL DEFAULT '', open_clocks smallint NOT NULL DEFAULT 0,
    response_breach_at timestamptz, resolution_breach_at timestamptz, policy text COLLATE "C" NOT NULL DEFAULT ''
) WITH (fillfactor = 85);
INSERT INTO tk (id, priority, customer_tier, status, created_at, updated_at, sla_state, next_due_at, breach_at, sla_calendar, policy, open_clocks, response_breach_at)
SELECT 'SC-'||lpad(g::text,8,'0'), 'medium', 'gold', 'open', now() - g*interval '1 s', now(), 'ok', now() + (g%1000)*interval '1 s', now() + interval '1 h', '24x7', 'tiers.gold.medium', 3, now() + interval '1 h'
FROM generate_series(1,300000) g;
CREATE INDEX tk_due ON tk (next_due_at) WHERE next_due_at IS NOT NULL;
CREATE INDEX tk_state ON tk (sla_state, created_at DESC, id);
CREATE INDEX tk_open_breach ON tk (breach_at, id) WHERE open;
CREATE INDEX tk_created ON tk (created_at DESC, id);
VACUUM ANALYZE tk;
