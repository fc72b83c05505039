-- Per-member counters and check-in streaks, keyed by server and member.

CREATE TABLE public.discord_user_stats (
    server_id text NOT NULL REFERENCES public.discord_server_configs (server_id) ON DELETE CASCADE,
    discord_user_id text NOT NULL,
    messages_count integer NOT NULL DEFAULT 0 CHECK (messages_count >= 0),
    voice_minutes integer NOT NULL DEFAULT 0 CHECK (voice_minutes >= 0),
    reactions_count integer NOT NULL DEFAULT 0 CHECK (reactions_count >= 0),
    rsnc_earned bigint NOT NULL DEFAULT 0 CHECK (rsnc_earned >= 0),
    first_seen_at timestamptz,
    last_active_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (server_id, discord_user_id)
);

CREATE INDEX idx_discord_user_stats_user ON public.discord_user_stats (discord_user_id);

CREATE INDEX idx_discord_user_stats_leaderboard ON public.discord_user_stats (server_id, rsnc_earned DESC);

COMMENT ON TABLE public.discord_user_stats IS 'Cumulative engagement per member and server (the docs show no key; (server_id, discord_user_id) is it).';
COMMENT ON COLUMN public.discord_user_stats.reactions_count IS 'Reactions the member gave.';
COMMENT ON COLUMN public.discord_user_stats.rsnc_earned IS 'Cumulative RSNC earned in this server, whole RSNC; never goes down (spending comes out of the ledger balance).';
COMMENT ON COLUMN public.discord_user_stats.first_seen_at IS 'Added: time of the member''s first recorded event in this server.';
COMMENT ON COLUMN public.discord_user_stats.last_active_at IS 'Added: time of the member''s latest recorded event in this server.';

CREATE TABLE public.discord_user_streaks (
    server_id text NOT NULL REFERENCES public.discord_server_configs (server_id) ON DELETE CASCADE,
    discord_user_id text NOT NULL,
    current_streak integer NOT NULL DEFAULT 0 CHECK (current_streak >= 0),
    longest_streak integer NOT NULL DEFAULT 0 CHECK (longest_streak >= 0),
    last_checkin timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (server_id, discord_user_id),
    CONSTRAINT longest_at_least_current CHECK (longest_streak >= current_streak)
);

CREATE INDEX idx_discord_user_streaks_user ON public.discord_user_streaks (discord_user_id);

COMMENT ON TABLE public.discord_user_streaks IS 'Daily check-in streaks per member and server, in UTC days.';
COMMENT ON COLUMN public.discord_user_streaks.last_checkin IS 'Time of the latest check-in; its UTC date decides same day / next day / gap.';
