-- What the bot does for a click (resonance.db.drops.claim_drop): the decision commits on its own,
-- then a won claim is paid right after in its own transaction (decide, then pay).
\set uid random(1, 1000000000000)
SELECT coalesce(resonance.claim_drop(:drop::uuid, 'payer' || :uid::text) ->> 'claim_id', '') AS cid \gset
SELECT resonance.pay_drop_claim(nullif(:cid, '')::uuid);
