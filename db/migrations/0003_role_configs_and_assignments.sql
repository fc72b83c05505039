-- Role effects and milestones, and who holds which role.

CREATE TABLE public.discord_role_configs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    server_id text NOT NULL REFERENCES public.discord_server_configs (server_id) ON DELETE CASCADE,
    brand_id text NOT NULL,
    discord_role_id text NOT NULL,
    discord_role_name text,
    discord_role_color text,
    discord_role_position integer,
    effect_type text NOT NULL CHECK (
        effect_type IN ('multiplier', 'bonus_flat', 'cooldown_reduction', 'event_access', 'one_time_bonus', 'auto_drip')
    ),
    effect_config jsonb DEFAULT '{}'::jsonb,
    assignment_type text DEFAULT 'external' CHECK (
        assignment_type IN ('manual', 'balance_threshold', 'activity_threshold', 'purchase', 'external', 'milestone')
    ),
    assignment_config jsonb DEFAULT '{}'::jsonb,
    priority integer DEFAULT 0,
    is_active boolean DEFAULT TRUE,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    CONSTRAINT unique_server_role UNIQUE (server_id, discord_role_id)
);

CREATE INDEX idx_discord_role_configs_brand_id ON public.discord_role_configs (brand_id);

CREATE INDEX idx_discord_role_configs_active ON public.discord_role_configs (server_id, discord_role_id) WHERE is_active;

COMMENT ON TABLE public.discord_role_configs IS 'Role -> effect mappings (multiplier, bonus_flat, cooldown_reduction, event_access, one_time_bonus, auto_drip) and how the role is assigned (external, manual, purchase, milestone, thresholds).';
COMMENT ON COLUMN public.discord_role_configs.effect_config IS 'multiplier {"value":2.0}; bonus_flat {"value":50}; cooldown_reduction {"percent":50}; one_time_bonus {"amount":100}; auto_drip {"amount":10,"period":"day"}; event_access {"event_types":[...]}.';
COMMENT ON COLUMN public.discord_role_configs.assignment_config IS 'Milestone: {"name","description","criteria":[{"type":"rsnc_earned","threshold":5000}]}; purchase: {"price":500}; thresholds: {"threshold":...}.';

CREATE TABLE public.discord_role_assignments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    server_id text NOT NULL REFERENCES public.discord_server_configs (server_id) ON DELETE CASCADE,
    brand_id text NOT NULL,
    discord_user_id text NOT NULL,
    discord_role_id text NOT NULL,
    assigned_at timestamptz DEFAULT now(),
    assigned_by text NOT NULL CHECK (
        assigned_by IN ('manual', 'auto:balance', 'auto:activity', 'auto:milestone', 'purchase', 'external')
    ),
    ltz_spent integer DEFAULT 0 CHECK (ltz_spent >= 0),
    one_time_bonus_claimed boolean DEFAULT FALSE,
    one_time_bonus_amount integer DEFAULT 0,
    one_time_bonus_claimed_at timestamptz,
    removed_at timestamptz,
    removed_by text,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    CONSTRAINT unique_user_role UNIQUE (server_id, discord_user_id, discord_role_id)
);

CREATE INDEX idx_discord_role_assignments_brand_id ON public.discord_role_assignments (brand_id);

CREATE INDEX idx_discord_role_assignments_user ON public.discord_role_assignments (discord_user_id);

COMMENT ON TABLE public.discord_role_assignments IS 'Role assignments, purchases and one-time bonus claims; one row per member and role (unique_user_role makes bonuses exactly-once).';
COMMENT ON COLUMN public.discord_role_assignments.assigned_by IS 'manual, auto:balance, auto:activity, purchase, external as documented; auto:milestone added for milestone crossings.';
COMMENT ON COLUMN public.discord_role_assignments.ltz_spent IS 'RSNC spent on a purchased role (name kept from the Loyalteez era).';
COMMENT ON COLUMN public.discord_role_assignments.removed_at IS 'NULL while the member still holds the role.';
