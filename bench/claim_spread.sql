-- The same claim work without the hot row: each click on one of 64 drops (bench.spread_drops).
-- What claim_drop costs on CPU alone; claim_drop x32 on one drop is compared with it too.
\set uid random(1, 1000000000000)
\set d random(1, 64)
SELECT resonance.claim_drop((SELECT s.drop_id FROM bench.spread_drops AS s WHERE s.n = :d), 'spread' || :uid::text);
