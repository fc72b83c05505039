-- Servers linked to brands, and the event rules shared with the Partner Portal.

CREATE TABLE public.discord_server_configs (
    server_id text PRIMARY KEY,
    brand_id text NOT NULL,
    server_name text,
    is_active boolean NOT NULL DEFAULT TRUE,
    config_metadata jsonb DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_discord_server_configs_brand_id ON public.discord_server_configs (brand_id);

COMMENT ON TABLE public.discord_server_configs IS 'A Discord server (guild) linked to the brand that funds its rewards.';
COMMENT ON COLUMN public.discord_server_configs.config_metadata IS 'Event configs and role settings; anti-farming thresholds live here (anti_farming.similarity, anti_farming.min_words, anti_farming.window_minutes).';
COMMENT ON COLUMN public.discord_server_configs.created_at IS 'Added: when the server was linked.';
COMMENT ON COLUMN public.discord_server_configs.updated_at IS 'Added: maintained by the updated_at trigger.';

CREATE TABLE public.monitoring_rules (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id text NOT NULL,
    event_type text NOT NULL,
    reward_amount numeric,
    cooldown_hours integer CHECK (cooldown_hours >= 0),
    max_claims_per_user integer CHECK (max_claims_per_user > 0),
    is_enabled boolean NOT NULL DEFAULT TRUE,
    detection_method text,
    detection_config jsonb,
    channel_constraints jsonb,
    rule_metadata jsonb,
    server_id text REFERENCES public.discord_server_configs (server_id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT monitoring_rules_reward_not_negative CHECK (reward_amount >= 0)
);

CREATE INDEX idx_monitoring_rules_brand_id ON public.monitoring_rules (brand_id);

CREATE INDEX idx_monitoring_rules_server_event ON public.monitoring_rules (server_id, event_type) WHERE is_enabled;

COMMENT ON TABLE public.monitoring_rules IS 'The source of truth for events: what each event type rewards, and its limits. Shared with the Partner Portal.';
COMMENT ON COLUMN public.monitoring_rules.server_id IS 'NULL for a brand-wide rule that applies to every server of the brand.';
COMMENT ON COLUMN public.monitoring_rules.detection_method IS 'gateway_keyword, gateway_message_quality, gateway_reaction or discord_interaction (a JSON array of them is accepted).';
COMMENT ON COLUMN public.monitoring_rules.detection_config IS 'Trigger: {"trigger":"keyword","keywords":[...],"channels":[...]}, {"trigger":"min_length","min_length":50}, {"trigger":"reaction_count","min_reactions":5} or {"channels":[...]}.';
COMMENT ON COLUMN public.monitoring_rules.cooldown_hours IS 'Per member and rule; shortened by the member''s largest cooldown_reduction.';
COMMENT ON COLUMN public.monitoring_rules.max_claims_per_user IS 'Lifetime cap per member, or per day/week when rule_metadata.claims_period says so.';
COMMENT ON COLUMN public.monitoring_rules.rule_metadata IS 'Extra settings: claims_period (lifetime|day|week), requires_event_access, streak_bonus, ...';
