-- A crowd clicking one drop: each click a different member.
\set uid random(1, 1000000000000)
SELECT resonance.claim_drop(:drop::uuid, 'clicker' || :uid::text);
