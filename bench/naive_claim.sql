-- The naive peer: the read-check-write sequence many bots use (select the count, insert the claim,
-- write back count + 1). Under concurrency two clients read the same count, both pass the check.
\set uid random(1, 1000000000000)
BEGIN;
SELECT claims_count AS n, max_claims AS m FROM public.discord_drops WHERE drop_id = :drop::uuid \gset
\if :n < :m
INSERT INTO public.discord_drop_claims (drop_id, discord_user_id, server_id) VALUES (:drop::uuid, 'naive' || :uid::text, 'bench');
UPDATE public.discord_drops SET claims_count = :n::integer + 1 WHERE drop_id = :drop::uuid;
\endif
COMMIT;
