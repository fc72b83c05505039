-- Fewer indexes to maintain per ledger write (every tip and every reward appends to
-- tipping.transactions; every tip to tipping.tips). Each index dropped here has no reader left:
--   * idx_transactions_brand_id and idx_tips_server_id were added (0100) for the portal's brand
--     read policies, which db/policies/tipping.sql has since retired (service_role only now);
--     no function filters transactions by brand or tips by server.
--   * idx_tips_sender and idx_tips_receiver: no query reads tips by member (tipping.history reads
--     tipping.transactions by sender_id / recipient_id, which keep their indexes).
-- Kept: the primary keys, transactions' UNIQUE idempotency_key (the idempotency guarantee),
-- idx_transactions_sender / idx_transactions_recipient (history, trust badge) and the two
-- created_at indexes the JustTheTip schema documents.
-- Added: tips (transaction_id), which tipping.history's join and a replayed tip's lookup read
-- (they scanned every tip before).
-- Plain DROP INDEX: migrations run inside one transaction, where CONCURRENTLY cannot; the ACCESS
-- EXCLUSIVE lock is held for the catalog change only.
-- squawk-ignore require-concurrent-index-deletion
DROP INDEX tipping.idx_transactions_brand_id;

-- squawk-ignore require-concurrent-index-deletion
DROP INDEX tipping.idx_tips_server_id;

-- squawk-ignore require-concurrent-index-deletion
DROP INDEX tipping.idx_tips_sender;

-- squawk-ignore require-concurrent-index-deletion
DROP INDEX tipping.idx_tips_receiver;

CREATE INDEX idx_tips_transaction_id ON tipping.tips (transaction_id);
