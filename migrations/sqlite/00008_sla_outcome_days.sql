-- +goose Up
-- A roll-up of the stopped outcomes, so that a report over a long range
-- reads a few small rows per day rather than every outcome: per UTC day of
-- the stop (days since the Unix epoch), key columns and coarse bin of
-- business time (sqlstore.CoarseBin: 5-minute bins below an hour, hourly
-- bins below 100 hours, daily bins above), the stopped clocks, of which
-- met, and the missed ones' time past target. Kept by the triggers below
-- in the statement that writes an outcome row, so it never disagrees with
-- them; rows whose counts fall to 0 stay (harmless, and few). Reports read
-- whole UTC days of a period here and the partial days at its edges (any
-- zone's period starts are a multiple of 15 minutes from UTC midnight)
-- from the outcome rows; the bins locate each percentile, which the
-- outcome rows of its bin (sla_outcomes_bin_idx) then give exactly.
CREATE TABLE sla_outcome_days (
    day             INTEGER NOT NULL,
    policy          TEXT    NOT NULL,
    tier            TEXT    NOT NULL,
    priority        TEXT    NOT NULL,
    sla_type        TEXT    NOT NULL,
    calendar        TEXT    NOT NULL,
    bin             INTEGER NOT NULL,
    stopped         INTEGER NOT NULL,
    met             INTEGER NOT NULL,
    overrun_seconds INTEGER NOT NULL,
    PRIMARY KEY (day, policy, tier, priority, sla_type, calendar, bin)
) WITHOUT ROWID;

-- The stopped clocks by coarse bin and stop, for a report's percentiles:
-- the clocks of one bin stopped in a period are one range of it, read
-- without the table. The bin expression is sqlite.binExpr's, word for
-- word (SQLite uses the index only for the same expression).
CREATE INDEX sla_outcomes_bin_idx ON sla_outcomes ((CASE WHEN business_seconds < 3600 THEN business_seconds / 300
    WHEN business_seconds < 360000 THEN 12 + (business_seconds - 3600) / 3600
    ELSE 111 + (business_seconds - 360000) / 86400 END), stopped_at, policy, tier, priority, sla_type, calendar, business_seconds)
    WHERE stopped_at IS NOT NULL;

-- +goose StatementBegin
CREATE TRIGGER sla_outcome_days_insert AFTER INSERT ON sla_outcomes WHEN new.stopped_at IS NOT NULL BEGIN
    INSERT INTO sla_outcome_days (day, policy, tier, priority, sla_type, calendar, bin, stopped, met, overrun_seconds)
    SELECT (new.stopped_at - CASE WHEN new.stopped_at < 0 THEN 86399999999 ELSE 0 END) / 86400000000,
        new.policy, new.tier, new.priority, new.sla_type, new.calendar,
        CASE WHEN new.business_seconds < 3600 THEN new.business_seconds / 300
            WHEN new.business_seconds < 360000 THEN 12 + (new.business_seconds - 3600) / 3600
            ELSE 111 + (new.business_seconds - 360000) / 86400 END,
        1, CASE WHEN new.breached THEN 0 ELSE 1 END, CASE WHEN new.breached THEN new.overrun_seconds ELSE 0 END
    WHERE true
    ON CONFLICT (day, policy, tier, priority, sla_type, calendar, bin) DO UPDATE
    SET stopped = stopped + excluded.stopped, met = met + excluded.met, overrun_seconds = overrun_seconds + excluded.overrun_seconds;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER sla_outcome_days_delete AFTER DELETE ON sla_outcomes WHEN old.stopped_at IS NOT NULL BEGIN
    UPDATE sla_outcome_days SET stopped = stopped - 1, met = met - CASE WHEN old.breached THEN 0 ELSE 1 END,
        overrun_seconds = overrun_seconds - CASE WHEN old.breached THEN old.overrun_seconds ELSE 0 END
    WHERE day = (old.stopped_at - CASE WHEN old.stopped_at < 0 THEN 86399999999 ELSE 0 END) / 86400000000
        AND policy = old.policy AND tier = old.tier AND priority = old.priority AND sla_type = old.sla_type AND calendar = old.calendar
        AND bin = CASE WHEN old.business_seconds < 3600 THEN old.business_seconds / 300
            WHEN old.business_seconds < 360000 THEN 12 + (old.business_seconds - 3600) / 3600
            ELSE 111 + (old.business_seconds - 360000) / 86400 END;
END;
-- +goose StatementEnd

-- An update that changes what the roll-up counts is a delete of the old
-- row and an insert of the new one.
-- +goose StatementBegin
CREATE TRIGGER sla_outcome_days_update AFTER UPDATE ON sla_outcomes
WHEN old.stopped_at IS NOT new.stopped_at OR old.business_seconds <> new.business_seconds OR old.breached <> new.breached
    OR old.overrun_seconds <> new.overrun_seconds OR old.policy <> new.policy OR old.tier <> new.tier
    OR old.priority <> new.priority OR old.sla_type <> new.sla_type OR old.calendar <> new.calendar BEGIN
    UPDATE sla_outcome_days SET stopped = stopped - 1, met = met - CASE WHEN old.breached THEN 0 ELSE 1 END,
        overrun_seconds = overrun_seconds - CASE WHEN old.breached THEN old.overrun_seconds ELSE 0 END
    WHERE old.stopped_at IS NOT NULL
        AND day = (old.stopped_at - CASE WHEN old.stopped_at < 0 THEN 86399999999 ELSE 0 END) / 86400000000
        AND policy = old.policy AND tier = old.tier AND priority = old.priority AND sla_type = old.sla_type AND calendar = old.calendar
        AND bin = CASE WHEN old.business_seconds < 3600 THEN old.business_seconds / 300
            WHEN old.business_seconds < 360000 THEN 12 + (old.business_seconds - 3600) / 3600
            ELSE 111 + (old.business_seconds - 360000) / 86400 END;
    INSERT INTO sla_outcome_days (day, policy, tier, priority, sla_type, calendar, bin, stopped, met, overrun_seconds)
    SELECT (new.stopped_at - CASE WHEN new.stopped_at < 0 THEN 86399999999 ELSE 0 END) / 86400000000,
        new.policy, new.tier, new.priority, new.sla_type, new.calendar,
        CASE WHEN new.business_seconds < 3600 THEN new.business_seconds / 300
            WHEN new.business_seconds < 360000 THEN 12 + (new.business_seconds - 3600) / 3600
            ELSE 111 + (new.business_seconds - 360000) / 86400 END,
        1, CASE WHEN new.breached THEN 0 ELSE 1 END, CASE WHEN new.breached THEN new.overrun_seconds ELSE 0 END
    WHERE new.stopped_at IS NOT NULL
    ON CONFLICT (day, policy, tier, priority, sla_type, calendar, bin) DO UPDATE
    SET stopped = stopped + excluded.stopped, met = met + excluded.met, overrun_seconds = overrun_seconds + excluded.overrun_seconds;
END;
-- +goose StatementEnd

-- The outcomes recorded so far.
INSERT INTO sla_outcome_days (day, policy, tier, priority, sla_type, calendar, bin, stopped, met, overrun_seconds)
SELECT (stopped_at - CASE WHEN stopped_at < 0 THEN 86399999999 ELSE 0 END) / 86400000000, policy, tier, priority, sla_type, calendar,
    CASE WHEN business_seconds < 3600 THEN business_seconds / 300
        WHEN business_seconds < 360000 THEN 12 + (business_seconds - 3600) / 3600
        ELSE 111 + (business_seconds - 360000) / 86400 END,
    count(*), sum(CASE WHEN breached THEN 0 ELSE 1 END), sum(CASE WHEN breached THEN overrun_seconds ELSE 0 END)
FROM sla_outcomes WHERE stopped_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7;

-- +goose Down
DROP TRIGGER sla_outcome_days_update;
DROP TRIGGER sla_outcome_days_delete;
DROP TRIGGER sla_outcome_days_insert;
DROP INDEX sla_outcomes_bin_idx;
DROP TABLE sla_outcome_days;
