-- Validates the foreign keys 1200 (reward decisions -> their transactions) and 1202 (ON DELETE
-- RESTRICT to discord_server_configs) added NOT VALID: in their own transaction, so existing rows
-- are checked without blocking reads for the length of the earlier migrations.

ALTER TABLE resonance.reward_ledger VALIDATE CONSTRAINT reward_ledger_transaction_fkey;
ALTER TABLE public.monitoring_rules VALIDATE CONSTRAINT monitoring_rules_server_id_fkey;
ALTER TABLE public.discord_role_configs VALIDATE CONSTRAINT discord_role_configs_server_id_fkey;
ALTER TABLE public.discord_role_assignments VALIDATE CONSTRAINT discord_role_assignments_server_id_fkey;
ALTER TABLE public.discord_user_stats VALIDATE CONSTRAINT discord_user_stats_server_id_fkey;
ALTER TABLE public.discord_user_streaks VALIDATE CONSTRAINT discord_user_streaks_server_id_fkey;
ALTER TABLE public.discord_drops VALIDATE CONSTRAINT discord_drops_server_id_fkey;
ALTER TABLE public.discord_achievements VALIDATE CONSTRAINT discord_achievements_server_id_fkey;
ALTER TABLE public.discord_user_achievements VALIDATE CONSTRAINT discord_user_achievements_server_id_fkey;
ALTER TABLE public.discord_community_goals VALIDATE CONSTRAINT discord_community_goals_server_id_fkey;
ALTER TABLE public.discord_kpi_configs VALIDATE CONSTRAINT discord_kpi_configs_server_id_fkey;
ALTER TABLE public.discord_kpi_snapshots VALIDATE CONSTRAINT discord_kpi_snapshots_server_id_fkey;
ALTER TABLE public.discord_report_schedules VALIDATE CONSTRAINT discord_report_schedules_server_id_fkey;
