-- The docs' "migration 008": reactions received on the member's own messages.

ALTER TABLE public.discord_user_stats
ADD COLUMN reactions_received integer NOT NULL DEFAULT 0 CHECK (reactions_received >= 0);

COMMENT ON COLUMN public.discord_user_stats.reactions_received IS 'Reactions other members put on this member''s messages (added by migration 008 in the docs).';
