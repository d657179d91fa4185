-- +goose Up
-- A roll-up of the stopped outcomes, so that a report over a long range
-- reads a few small rows per day rather than every outcome: per UTC day of
-- the stop (days since the Unix epoch), key columns and coarse bin of
-- business time (sqlstore.CoarseBin: 5-minute bins below an hour, hourly
-- bins below 100 hours, daily bins above), the stopped clocks, of which
-- met, and the missed ones' time past target. Kept by the statement
-- triggers below in the transaction that writes the outcome rows (one
-- set-based upsert per statement), so it never disagrees with them; rows
-- whose counts fall to 0 stay (harmless, and few). Reports read whole UTC
-- days of a period here and the partial days at its edges (any zone's
-- period starts are a multiple of 15 minutes from UTC midnight) from the
-- outcome rows; the bins locate each percentile, which the outcome rows of
-- its bin (sla_outcomes_bin_idx) then give exactly. Each connection adds
-- to rows of its own shard (its backend's pid modulo 8) and reports sum
-- them: concurrent ingests that record outcomes of the same day, key and
-- bin would otherwise wait for each other's commit on the one row.
CREATE TABLE sla_outcome_days (
    day             integer NOT NULL,
    policy          text    NOT NULL,
    tier            text    NOT NULL,
    priority        text    NOT NULL,
    sla_type        text    NOT NULL,
    calendar        text    NOT NULL,
    bin             integer NOT NULL,
    stopped         bigint  NOT NULL,
    met             bigint  NOT NULL,
    overrun_seconds bigint  NOT NULL,
    shard           smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, policy, tier, priority, sla_type, calendar, bin, shard)
);

-- sla_outcome_bin is sqlstore.CoarseBin.
-- +goose StatementBegin
CREATE FUNCTION sla_outcome_bin(business bigint) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN business < 3600 THEN business / 300
        WHEN business < 360000 THEN 12 + (business - 3600) / 3600
        ELSE 111 + (business - 360000) / 86400 END::integer
$$;
-- +goose StatementEnd

-- The stopped clocks by coarse bin and stop, for a report's percentiles:
-- the clocks of one bin stopped in a period are one range of it, read
-- without the table.
CREATE INDEX sla_outcomes_bin_idx ON sla_outcomes (sla_outcome_bin(business_seconds), stopped_at)
    INCLUDE (policy, tier, priority, sla_type, calendar, business_seconds, started_at)
    WHERE stopped_at IS NOT NULL;

-- sla_outcome_days_apply adds the stopped rows of new_rows and subtracts
-- those of old_rows (the transition tables the statement has), in key
-- order (concurrent writers lock roll-up rows in the same order). Its
-- search_path is the migration's, so that a writer whose own differs
-- still finds the schema's tables.
-- +goose StatementBegin
CREATE FUNCTION sla_outcome_days_apply() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO sla_outcome_days AS d (day, policy, tier, priority, sla_type, calendar, bin, stopped, met, overrun_seconds, shard)
        SELECT day, policy, tier, priority, sla_type, calendar, bin, sum(n), sum(m), sum(o), (pg_backend_pid() % 8)::smallint FROM (
            SELECT floor(extract(epoch FROM stopped_at) / 86400)::integer, policy, tier, priority, sla_type, calendar, sla_outcome_bin(business_seconds),
                1, CASE WHEN breached THEN 0 ELSE 1 END, CASE WHEN breached THEN overrun_seconds ELSE 0 END
            FROM new_rows WHERE stopped_at IS NOT NULL
        ) x (day, policy, tier, priority, sla_type, calendar, bin, n, m, o)
        GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING sum(n) <> 0 OR sum(m) <> 0 OR sum(o) <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT (day, policy, tier, priority, sla_type, calendar, bin, shard) DO UPDATE
        SET stopped = d.stopped + excluded.stopped, met = d.met + excluded.met,
            overrun_seconds = d.overrun_seconds + excluded.overrun_seconds;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO sla_outcome_days AS d (day, policy, tier, priority, sla_type, calendar, bin, stopped, met, overrun_seconds, shard)
        SELECT day, policy, tier, priority, sla_type, calendar, bin, sum(n), sum(m), sum(o), (pg_backend_pid() % 8)::smallint FROM (
            SELECT floor(extract(epoch FROM stopped_at) / 86400)::integer, policy, tier, priority, sla_type, calendar, sla_outcome_bin(business_seconds),
                1, CASE WHEN breached THEN 0 ELSE 1 END, CASE WHEN breached THEN overrun_seconds ELSE 0 END
            FROM new_rows WHERE stopped_at IS NOT NULL
            UNION ALL SELECT floor(extract(epoch FROM stopped_at) / 86400)::integer, policy, tier, priority, sla_type, calendar, sla_outcome_bin(business_seconds),
                -1, CASE WHEN breached THEN 0 ELSE -1 END, CASE WHEN breached THEN -overrun_seconds ELSE 0 END
            FROM old_rows WHERE stopped_at IS NOT NULL
        ) x (day, policy, tier, priority, sla_type, calendar, bin, n, m, o)
        GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING sum(n) <> 0 OR sum(m) <> 0 OR sum(o) <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT (day, policy, tier, priority, sla_type, calendar, bin, shard) DO UPDATE
        SET stopped = d.stopped + excluded.stopped, met = d.met + excluded.met,
            overrun_seconds = d.overrun_seconds + excluded.overrun_seconds;
    ELSE
        INSERT INTO sla_outcome_days AS d (day, policy, tier, priority, sla_type, calendar, bin, stopped, met, overrun_seconds, shard)
        SELECT day, policy, tier, priority, sla_type, calendar, bin, sum(n), sum(m), sum(o), (pg_backend_pid() % 8)::smallint FROM (
            SELECT floor(extract(epoch FROM stopped_at) / 86400)::integer, policy, tier, priority, sla_type, calendar, sla_outcome_bin(business_seconds),
                -1, CASE WHEN breached THEN 0 ELSE -1 END, CASE WHEN breached THEN -overrun_seconds ELSE 0 END
            FROM old_rows WHERE stopped_at IS NOT NULL
        ) x (day, policy, tier, priority, sla_type, calendar, bin, n, m, o)
        GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING sum(n) <> 0 OR sum(m) <> 0 OR sum(o) <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT (day, policy, tier, priority, sla_type, calendar, bin, shard) DO UPDATE
        SET stopped = d.stopped + excluded.stopped, met = d.met + excluded.met,
            overrun_seconds = d.overrun_seconds + excluded.overrun_seconds;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER sla_outcome_days_insert AFTER INSERT ON sla_outcomes REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sla_outcome_days_apply();
CREATE TRIGGER sla_outcome_days_update AFTER UPDATE ON sla_outcomes REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sla_outcome_days_apply();
CREATE TRIGGER sla_outcome_days_delete AFTER DELETE ON sla_outcomes REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sla_outcome_days_apply();

-- The outcomes recorded so far.
INSERT INTO sla_outcome_days (day, policy, tier, priority, sla_type, calendar, bin, stopped, met, overrun_seconds)
SELECT floor(extract(epoch FROM stopped_at) / 86400)::integer, policy, tier, priority, sla_type, calendar, sla_outcome_bin(business_seconds), count(*), count(*) FILTER (WHERE NOT breached), coalesce(sum(overrun_seconds) FILTER (WHERE breached), 0)
FROM sla_outcomes WHERE stopped_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7;

-- +goose Down
DROP TRIGGER sla_outcome_days_delete ON sla_outcomes;
DROP TRIGGER sla_outcome_days_update ON sla_outcomes;
DROP TRIGGER sla_outcome_days_insert ON sla_outcomes;
DROP FUNCTION sla_outcome_days_apply();
DROP FUNCTION sla_outcome_bin(bigint);
DROP INDEX sla_outcomes_bin_idx;
DROP TABLE sla_outcome_days;
