-- +goose Up
-- Every key of these indexes ends in the ticket's id, so the only equal
-- keys in them are versions of one ticket. A firing or an update that
-- leaves a key as it was (a ticket already in breach fired again, or its
-- escalation raised) writes a new entry beside the old one, and when the
-- leaf page is full, deduplication merges the two into one posting list.
-- A scan can mark an entry dead only when every row it points to is dead,
-- so a posting list's dead version is visited again by every scan until
-- VACUUM: after a burst of 10,000 firings, the queue page's count walked
-- 19,520 index entries, twice over the 10,000 tickets it counted, in every
-- request. Without deduplication the first scan marks the old entries dead
-- and later scans skip them; bottom-up deletion, which does not depend on
-- deduplication, still clears version churn before a page splits.
-- Existing posting lists stay until VACUUM empties them or a REINDEX.
ALTER INDEX tickets_pkey SET (deduplicate_items = off);
ALTER INDEX tickets_created_idx SET (deduplicate_items = off);
ALTER INDEX tickets_state_created_idx SET (deduplicate_items = off);
ALTER INDEX tickets_open_breach_idx SET (deduplicate_items = off);

-- +goose Down
ALTER INDEX tickets_pkey RESET (deduplicate_items);
ALTER INDEX tickets_created_idx RESET (deduplicate_items);
ALTER INDEX tickets_state_created_idx RESET (deduplicate_items);
ALTER INDEX tickets_open_breach_idx RESET (deduplicate_items);
