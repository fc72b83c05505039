-- Community goals are refreshed on the reward path at most every few seconds per goal.

ALTER TABLE public.discord_community_goals ADD COLUMN refreshed_at timestamptz;

COMMENT ON COLUMN public.discord_community_goals.refreshed_at IS 'Added: wall-clock time current_value was last recomputed; the per-reward refresh skips a goal refreshed less than config_metadata.goals.refresh_seconds (default 5) ago.';
