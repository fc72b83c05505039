-- Engine semantics a community manager expects (issue 16).

-- Balance roles are re-evaluated after every tip, mint and purchase (resonance.evaluate_balance_roles):
-- finding the servers that have such roles must be one probe of an index that is empty on most installs.
CREATE INDEX idx_discord_role_configs_balance_threshold ON public.discord_role_configs (server_id)
WHERE is_active AND assignment_type = 'balance_threshold';

-- Goals count from their start and can fail: starts_at (default: creation), failed_at (deadline
-- passed without reaching the target). list_goals shows both, so its row type changes.
ALTER TABLE public.discord_community_goals ADD COLUMN starts_at timestamptz;

UPDATE public.discord_community_goals SET starts_at = coalesce(created_at, now()) WHERE starts_at IS NULL;

ALTER TABLE public.discord_community_goals ALTER COLUMN starts_at SET DEFAULT now();

ALTER TABLE public.discord_community_goals ADD COLUMN failed_at timestamptz;

COMMENT ON COLUMN public.discord_community_goals.starts_at IS
'Added: the goal counts from here (default its creation): users = members first seen since, rsnc_distributed = RSNC rewarded since.';
COMMENT ON COLUMN public.discord_community_goals.failed_at IS
'Added: set once when the deadline passed without reaching target_value (the goal is then closed as failed).';

-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.list_goals(text);

-- Loyalteez compatibility: ltz_earned (the older name of rsnc_earned) for old clients' queries.
-- A column (not a view) so that `SELECT ltz_earned FROM discord_user_stats` keeps working; the
-- one-time rewrite of the stats table is accepted (one row per member and server).
-- squawk-ignore adding-field-with-default
ALTER TABLE public.discord_user_stats ADD COLUMN ltz_earned bigint GENERATED ALWAYS AS (rsnc_earned) STORED;

COMMENT ON COLUMN public.discord_user_stats.ltz_earned IS
'Compatibility (the older Loyalteez doc): always equal to rsnc_earned, read-only.';
