# Times the pass's ticket update with all thirteen derived columns against
# the four a firing changes, alternated, 1,000 rows a statement, on the
# scratch table of scratch-tickets.sql (300,000 tickets with the tickets'
# indexes). Each statement updates rows no earlier statement touched.
#   psql -d test -f scratch-tickets.sql
#   python3 scratch-ticket-update.py | psql -d test -q 2>&1 | grep Time
# Even statements are the full update, odd ones the narrow one. The same
# after `DROP INDEX scratch_ma.tk_created` (with range(40, 80), fresh rows)
# gives the cost of one index entry per row.
import sys
def arr(vals): return "'{" + ",".join(vals) + "}'"
out=["SET search_path=scratch_ma;","\\timing on"]
ts='"2026-12-07 05:00:00.123456+00"'
for k in range(40):
    ids=['SC-%08d'%(k*1000+i+1) for i in range(1000)]
    n=len(ids)
    if k%2==0:
        out.append(f"""UPDATE tk t SET sla_state = u.sla_state, untracked_reason = u.untracked_reason, open = u.open,
 next_due_at = u.next_due_at, breach_at = u.breach_at, backfilled_at = u.backfilled_at, escalation_level = u.escalation_level,
 policy = u.policy, sla_calendar = u.sla_calendar, open_clocks = u.open_clocks, response_breach_at = u.response_breach_at, resolution_breach_at = u.resolution_breach_at
 FROM unnest({arr(ids)}::text[], {arr(['alert']*n)}::text[], {arr(['""']*n)}::text[], {arr(['t']*n)}::bool[], {arr([ts]*n)}::timestamptz[], {arr([ts]*n)}::timestamptz[],
 {arr(['NULL']*n)}::timestamptz[], {arr(['1']*n)}::int[], {arr(['tiers.gold.medium']*n)}::text[], {arr(['24x7']*n)}::text[], {arr(['3']*n)}::smallint[], {arr([ts]*n)}::timestamptz[], {arr(['NULL']*n)}::timestamptz[])
 AS u(id, sla_state, untracked_reason, open, next_due_at, breach_at, backfilled_at, escalation_level, policy, sla_calendar, open_clocks, response_breach_at, resolution_breach_at)
 WHERE t.id = u.id;""")
    else:
        out.append(f"""UPDATE tk t SET sla_state = u.sla_state, next_due_at = u.next_due_at, escalation_level = u.escalation_level
 FROM unnest({arr(ids)}::text[], {arr(['alert']*n)}::text[], {arr([ts]*n)}::timestamptz[], {arr(['1']*n)}::int[])
 AS u(id, sla_state, next_due_at, escalation_level) WHERE t.id = u.id;""")
print("\n".join(out))
