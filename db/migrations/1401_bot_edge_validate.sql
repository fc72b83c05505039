-- Validates the bounds 1400 added NOT VALID (its own transaction: rows are checked without blocking reads).

ALTER TABLE public.monitoring_rules VALIDATE CONSTRAINT monitoring_rules_reward_amount_bounded;
ALTER TABLE public.monitoring_rules VALIDATE CONSTRAINT monitoring_rules_cooldown_bounded;
ALTER TABLE public.discord_drops VALIDATE CONSTRAINT discord_drops_reward_amount_bounded;
ALTER TABLE public.discord_drops VALIDATE CONSTRAINT discord_drops_max_claims_bounded;
