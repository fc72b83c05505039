-- Drops and their claims, achievements and community goals.

CREATE TABLE public.discord_drops (
    drop_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    server_id text NOT NULL REFERENCES public.discord_server_configs (server_id) ON DELETE CASCADE,
    event_id text NOT NULL,
    drop_type text CHECK (drop_type IN ('button', 'reaction')),
    message_id text,
    channel_id text,
    emoji text,
    expires_at timestamptz,
    max_claims integer CHECK (max_claims > 0),
    claims_count integer NOT NULL DEFAULT 0 CHECK (claims_count >= 0),
    created_by text,
    created_at timestamptz DEFAULT now(),
    CONSTRAINT claims_within_max CHECK (max_claims IS NULL OR claims_count <= max_claims)
);

CREATE INDEX idx_discord_drops_server_id ON public.discord_drops (server_id);

CREATE INDEX idx_discord_drops_message ON public.discord_drops (message_id) WHERE message_id IS NOT NULL;

COMMENT ON TABLE public.discord_drops IS 'A drop posted in a channel: a button or reaction that the first max_claims members can claim.';
COMMENT ON COLUMN public.discord_drops.event_id IS 'The monitoring rule (id as text) or custom event the drop pays under.';
COMMENT ON COLUMN public.discord_drops.claims_count IS 'Claims so far; one conditional UPDATE keeps it <= max_claims.';

CREATE TABLE public.discord_drop_claims (
    claim_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    drop_id uuid NOT NULL REFERENCES public.discord_drops (drop_id) ON DELETE CASCADE,
    discord_user_id text NOT NULL,
    claimed_at timestamptz DEFAULT now(),
    reward_amount numeric CHECK (reward_amount >= 0),
    server_id text,
    CONSTRAINT unique_drop_claim UNIQUE (drop_id, discord_user_id)
);

CREATE INDEX idx_discord_drop_claims_user ON public.discord_drop_claims (discord_user_id);

CREATE INDEX idx_discord_drop_claims_server_id ON public.discord_drop_claims (server_id);

COMMENT ON TABLE public.discord_drop_claims IS 'Who claimed which drop; unique_drop_claim allows one claim per member and drop.';
COMMENT ON COLUMN public.discord_drop_claims.server_id IS 'Added: copied from the drop so every tenant table carries server_id (policies, Citus).';

CREATE TABLE public.discord_achievements (
    achievement_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    server_id text NOT NULL REFERENCES public.discord_server_configs (server_id) ON DELETE CASCADE,
    name text NOT NULL,
    description text,
    achievement_type text CHECK (
        achievement_type IN ('message_count', 'voice_hours', 'streak_days', 'reactions_received', 'reactions_given', 'rsnc_earned')
    ),
    threshold integer NOT NULL CHECK (threshold > 0),
    reward_amount numeric CHECK (reward_amount >= 0),
    is_active boolean DEFAULT TRUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_discord_achievements_server_id ON public.discord_achievements (server_id);

COMMENT ON TABLE public.discord_achievements IS 'Achievement definitions per server; progress follows the matching counter.';
COMMENT ON COLUMN public.discord_achievements.achievement_type IS 'The counter it follows: message_count, voice_hours, streak_days, reactions_received, reactions_given, rsnc_earned.';

CREATE TABLE public.discord_user_achievements (
    server_id text NOT NULL REFERENCES public.discord_server_configs (server_id) ON DELETE CASCADE,
    discord_user_id text NOT NULL,
    achievement_id uuid NOT NULL REFERENCES public.discord_achievements (achievement_id) ON DELETE CASCADE,
    progress integer DEFAULT 0,
    completed_at timestamptz,
    claimed_at timestamptz,
    PRIMARY KEY (server_id, discord_user_id, achievement_id)
);

CREATE INDEX idx_discord_user_achievements_user ON public.discord_user_achievements (discord_user_id);

CREATE INDEX idx_discord_user_achievements_achievement ON public.discord_user_achievements (achievement_id);

COMMENT ON TABLE public.discord_user_achievements IS 'A member''s progress on an achievement; completed_at and claimed_at are set once.';
COMMENT ON COLUMN public.discord_user_achievements.claimed_at IS 'When the achievement''s reward was paid.';

CREATE TABLE public.discord_community_goals (
    goal_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    server_id text NOT NULL REFERENCES public.discord_server_configs (server_id) ON DELETE CASCADE,
    name text NOT NULL,
    goal_type text CHECK (goal_type IN ('users', 'dau', 'rsnc_distributed', 'custom')),
    target_value numeric NOT NULL CHECK (target_value > 0),
    current_value numeric DEFAULT 0,
    deadline date,
    completed_at timestamptz,
    created_at timestamptz DEFAULT now()
);

CREATE INDEX idx_discord_community_goals_server_id ON public.discord_community_goals (server_id);

COMMENT ON TABLE public.discord_community_goals IS 'Server-wide goals; current_value follows goal_type and completed_at is set once.';
COMMENT ON COLUMN public.discord_community_goals.goal_type IS 'users (members seen), dau (active members today), rsnc_distributed (RSNC paid), custom (a function computes it).';
