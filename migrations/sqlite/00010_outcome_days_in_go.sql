-- +goose Up
-- The store keeps the roll-up of stopped outcomes (sla_outcome_days)
-- itself, in the transaction that writes the outcome rows: it reads the
-- stored rows a write replaces or deletes, and applies the difference with
-- one upsert per cell rather than one trigger run per row (sqlite's
-- writeOutcomes). Nothing else writes sla_outcomes.
DROP TRIGGER sla_outcome_days_update;
DROP TRIGGER sla_outcome_days_delete;
DROP TRIGGER sla_outcome_days_insert;

-- +goose Down
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

-- Writes under the version above kept the roll-up too: it needs no refill.
