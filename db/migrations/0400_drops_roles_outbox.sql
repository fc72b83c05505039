-- Drops, role assignments and the outbox: the columns and indexes their functions need.

ALTER TABLE public.discord_drops ADD COLUMN reward_amount numeric(20, 8);

ALTER TABLE public.discord_drops ADD COLUMN rule_id uuid;

ALTER TABLE public.discord_drops ADD COLUMN required_role_ids text [] NOT NULL DEFAULT '{}'::text [];

ALTER TABLE public.discord_drops ADD COLUMN closed_at timestamptz;

COMMENT ON COLUMN public.discord_drops.reward_amount IS 'Added: what each claim pays (whole RSNC), fixed when the drop is created: the given amount or its rule''s reward_amount.';
COMMENT ON COLUMN public.discord_drops.rule_id IS 'Added: the monitoring rule the drop pays under, when event_id names one.';
COMMENT ON COLUMN public.discord_drops.required_role_ids IS 'Added: a member must hold at least one of these Discord roles to claim (empty: everyone). Defaults to the server''s event_access roles for drops.';
COMMENT ON COLUMN public.discord_drops.closed_at IS 'Added: set by resonance.close_expired_drops once the drop has expired; a closed drop answers expired.';

CREATE INDEX idx_discord_drops_open_expiry ON public.discord_drops (expires_at)
WHERE closed_at IS NULL AND expires_at IS NOT NULL;

-- Milestones and thresholds are looked up after every stats change: one probe of this index.
CREATE INDEX idx_discord_role_configs_auto_assign ON public.discord_role_configs (server_id)
WHERE is_active AND assignment_type IN ('milestone', 'balance_threshold', 'activity_threshold');

-- Current holders of a role (auto_drip, removals).
CREATE INDEX idx_discord_role_assignments_holders ON public.discord_role_assignments (server_id, discord_role_id)
WHERE removed_at IS NULL;

ALTER TABLE resonance.outbox ADD COLUMN max_attempts integer NOT NULL DEFAULT 10;

COMMENT ON COLUMN resonance.outbox.max_attempts IS 'After this many takes the row is dead: fail_outbox marks it, or take_outbox when its last lease ran out.';
COMMENT ON COLUMN resonance.outbox.attempts IS 'Times the row was taken (a lease that ran out counts).';
