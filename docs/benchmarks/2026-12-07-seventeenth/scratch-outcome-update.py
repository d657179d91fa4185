# Times recording 128 delivered outcomes with the six arrays of
# finishDeliveriesSQL against three (id, attempts, delivered_at), alternated,
# each in its own transaction with the planner settings the store sends.
# The scratch table (300,000 pending deliveries, the deliveries' indexes):
#   CREATE SCHEMA scratch_ma;
#   CREATE TABLE scratch_ma.dl (id bigserial PRIMARY KEY, alert_id bigint NOT NULL,
#     notifier text COLLATE "C" NOT NULL, status text NOT NULL DEFAULT 'pending',
#     attempts integer NOT NULL DEFAULT 0, next_attempt_at timestamptz NOT NULL,
#     last_error text NOT NULL DEFAULT '', delivered_at timestamptz, holder text COLLATE "C",
#     held_until timestamptz, UNIQUE (alert_id, notifier));
#   INSERT INTO scratch_ma.dl (alert_id, notifier, attempts, next_attempt_at, holder)
#     SELECT g, 'slack', 1, now() + interval '1 hour', 'h1' FROM generate_series(1, 300000) g;
#   CREATE INDEX ON scratch_ma.dl (notifier, next_attempt_at, id) WHERE status = 'pending';
#   CREATE INDEX ON scratch_ma.dl (holder) WHERE status = 'pending' AND holder IS NOT NULL;
#   VACUUM ANALYZE scratch_ma.dl;
#   python3 scratch-outcome-update.py | psql -d test -q 2>&1 | grep Time | awk 'NR%5==4'
# (the fourth timing of each five is the UPDATE; even ones the full statement).
def arr(v): return "'{" + ",".join(v) + "}'"
ts='"2026-12-07 05:00:00.123456+00"'
out=["SET search_path=scratch_ma;","\\timing on"]
for k in range(120):
    ids=[str(k*128+i+1) for i in range(128)]; n=128
    if k%2==0:
        out.append(f"""BEGIN; SET LOCAL enable_hashjoin = off; SET LOCAL max_parallel_workers_per_gather = 0; UPDATE dl d SET status = u.status, holder = NULL,
 attempts = CASE WHEN u.unsent THEN d.attempts - 1 ELSE d.attempts END,
 next_attempt_at = CASE WHEN u.status = 'pending' THEN u.at ELSE d.next_attempt_at END,
 delivered_at = CASE WHEN u.status = 'delivered' THEN u.at ELSE d.delivered_at END,
 last_error = CASE WHEN u.unsent AND u.err = '' THEN d.last_error ELSE u.err END
 FROM unnest({arr(ids)}::bigint[], {arr(['1']*n)}::int[], {arr(['delivered']*n)}::text[], {arr([ts]*n)}::timestamptz[], {arr(['""']*n)}::text[], {arr(['f']*n)}::bool[]) AS u(id, attempts, status, at, err, unsent)
 WHERE d.id = u.id AND d.attempts = u.attempts AND d.status = (SELECT 'pending'::text); COMMIT;""")
    else:
        out.append(f"""BEGIN; SET LOCAL enable_hashjoin = off; SET LOCAL max_parallel_workers_per_gather = 0; UPDATE dl d SET status = 'delivered', holder = NULL, delivered_at = u.at, last_error = ''
 FROM unnest({arr(ids)}::bigint[], {arr(['1']*n)}::int[], {arr([ts]*n)}::timestamptz[]) AS u(id, attempts, at)
 WHERE d.id = u.id AND d.attempts = u.attempts AND d.status = (SELECT 'pending'::text); COMMIT;""")
print("\n".join(out))
