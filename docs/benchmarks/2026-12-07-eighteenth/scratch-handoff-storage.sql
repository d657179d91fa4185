-- How the hand-off row's id arrays are stored: 200 rows of two 1,000-id arrays each,
-- compressed in line (pglz, the default), out of line uncompressed (EXTERNAL), lz4, and MAIN.
-- Run against a scratch database: psql -h 127.0.0.1 -U postgres -d test -f scratch-handoff-storage.sql
-- (it creates and drops schema scratch_ho).
\timing off
DROP SCHEMA IF EXISTS scratch_ho CASCADE;
CREATE SCHEMA scratch_ho;
SET search_path = scratch_ho;
CREATE TABLE h_pglz (id bigserial PRIMARY KEY, holder text, notifier text, until timestamptz, delivery_ids bigint[], alert_ids bigint[]);
CREATE TABLE h_ext (LIKE h_pglz INCLUDING ALL);
ALTER TABLE h_ext ALTER COLUMN delivery_ids SET STORAGE EXTERNAL, ALTER COLUMN alert_ids SET STORAGE EXTERNAL;
CREATE TABLE h_lz4 (LIKE h_pglz INCLUDING ALL);
ALTER TABLE h_lz4 ALTER COLUMN delivery_ids SET COMPRESSION lz4, ALTER COLUMN alert_ids SET COMPRESSION lz4;
CREATE TABLE h_main (LIKE h_pglz INCLUDING ALL);
ALTER TABLE h_main ALTER COLUMN delivery_ids SET STORAGE MAIN, ALTER COLUMN alert_ids SET STORAGE MAIN;
\timing on
INSERT INTO h_pglz (holder, notifier, until, delivery_ids, alert_ids) SELECT 'h', 'slack', now(), ARRAY(SELECT 5000000+g*2+i FROM generate_series(1,1000) g), ARRAY(SELECT 3000000+g*3+i FROM generate_series(1,1000) g) FROM generate_series(1,200) i;
INSERT INTO h_ext (holder, notifier, until, delivery_ids, alert_ids) SELECT 'h', 'slack', now(), ARRAY(SELECT 5000000+g*2+i FROM generate_series(1,1000) g), ARRAY(SELECT 3000000+g*3+i FROM generate_series(1,1000) g) FROM generate_series(1,200) i;
INSERT INTO h_lz4 (holder, notifier, until, delivery_ids, alert_ids) SELECT 'h', 'slack', now(), ARRAY(SELECT 5000000+g*2+i FROM generate_series(1,1000) g), ARRAY(SELECT 3000000+g*3+i FROM generate_series(1,1000) g) FROM generate_series(1,200) i;
INSERT INTO h_main (holder, notifier, until, delivery_ids, alert_ids) SELECT 'h', 'slack', now(), ARRAY(SELECT 5000000+g*2+i FROM generate_series(1,1000) g), ARRAY(SELECT 3000000+g*3+i FROM generate_series(1,1000) g) FROM generate_series(1,200) i;
-- generating the arrays alone
SELECT count(*) FROM (SELECT ARRAY(SELECT 5000000+g*2+i FROM generate_series(1,1000) g), ARRAY(SELECT 3000000+g*3+i FROM generate_series(1,1000) g) FROM generate_series(1,200) i) x;
\timing off
SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class WHERE relname LIKE 'h\_%' AND relkind = 'r';
DROP SCHEMA scratch_ho CASCADE;
