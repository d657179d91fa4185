-- How long a claim of 256 takes as claims work through 400,000 pending deliveries
-- (each batch recorded right after, as the delivery loop does). Run on a throwaway
-- cluster: psql -f claim-growth.sql, then CALL claims(1500, 256); the notices give
-- the claim statement's time at claims 1-3 and every 100th.
DROP TABLE IF EXISTS deliveries, alerts;
CREATE TABLE alerts (id bigserial PRIMARY KEY, ticket_id text, details text);
CREATE TABLE deliveries (
    id              bigserial   PRIMARY KEY,
    alert_id        bigint      NOT NULL,
    notifier        text COLLATE "C" NOT NULL,
    status          text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text        NOT NULL DEFAULT '',
    delivered_at    timestamptz,
    holder text COLLATE "C",
    held_until timestamptz,
    UNIQUE (alert_id, notifier)
);
CREATE INDEX deliveries_holder_idx ON deliveries (holder) WHERE status = 'pending' AND holder IS NOT NULL;
CREATE INDEX deliveries_pending_order_idx ON deliveries (notifier, next_attempt_at, id) WHERE status = 'pending';
INSERT INTO alerts (ticket_id, details) SELECT 't'||g, repeat('x', 200) FROM generate_series(1, 400000) g;
INSERT INTO deliveries (alert_id, notifier, next_attempt_at) SELECT g, 'slack', now() - interval '1 hour' + g * interval '1 ms' FROM generate_series(1, 400000) g;
ANALYZE;
CREATE OR REPLACE PROCEDURE claims(n int, lim int) LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; t1 timestamptz; k int; got int;
BEGIN
  FOR i IN 1..n LOOP
    t0 := clock_timestamp();
    SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off;
    WITH c AS (
		SELECT id, next_attempt_at AS prev FROM deliveries
		WHERE status = 'pending' AND notifier = 'slack' AND next_attempt_at <= now()
		ORDER BY next_attempt_at, id LIMIT lim
		FOR UPDATE SKIP LOCKED)
	UPDATE deliveries d SET next_attempt_at = now() + interval '1 hour', attempts = d.attempts + 1, holder = 'h1'
	FROM c, alerts a
	WHERE d.id = c.id AND a.id = d.alert_id;
    GET DIAGNOSTICS got = ROW_COUNT; t1 := clock_timestamp();
    COMMIT;
    -- finish them
    UPDATE deliveries SET status = 'delivered', holder = NULL, delivered_at = now() WHERE status = 'pending' AND holder = 'h1';
    COMMIT;

    IF i % 100 = 0 OR i <= 3 THEN RAISE NOTICE 'claim % got % took % ms', i, got, round(extract(epoch from t1 - t0)::numeric * 1000, 2); END IF;
  END LOOP;
END $$;
