-- The drop stampede: every claim row's foreign key to discord_drops took FOR KEY SHARE on the one
-- hot drop row that all concurrent clickers then UPDATE, so the row's lockers became MultiXacts and
-- the claim had to be inserted under the row lock to avoid that. The reference is kept by
-- construction instead: resonance.claim_drop inserts a claim only in the sub-block whose guarded
-- UPDATE of the drop then succeeds (and locks the drop until commit), or rolls it back; deleting a
-- drop deletes its claims (trigger resonance.delete_drop_claims, db/functions/drops.sql), as the
-- ON DELETE CASCADE did. Measured in docs/benchmarks.md.
-- squawk-ignore ban-drop-constraint
ALTER TABLE public.discord_drop_claims DROP CONSTRAINT IF EXISTS discord_drop_claims_drop_id_fkey;

COMMENT ON COLUMN public.discord_drop_claims.drop_id IS
'The claimed drop. No foreign key (0900: its KEY SHARE lock on the hot drop row slowed stampedes); resonance.claim_drop only commits a claim together with its drop''s claims_count UPDATE, and resonance.delete_drop_claims cascades deletes.';
