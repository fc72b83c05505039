-- Retention (issue 16): audit logs, KPI snapshots, drop claims and member history are kept
-- indefinitely. Unlinking a server is a soft state change (is_active false: every entry point answers
-- inactive, history stays); a hard DELETE of a server row no longer cascades its history away: every
-- foreign key to discord_server_configs is ON DELETE RESTRICT. A server that asks to be forgotten is
-- removed, everything of it, by resonance.purge_server (db/functions/engine_admin.sql).

-- squawk-ignore ban-drop-constraint
ALTER TABLE public.monitoring_rules DROP CONSTRAINT monitoring_rules_server_id_fkey;

ALTER TABLE public.monitoring_rules
ADD CONSTRAINT monitoring_rules_server_id_fkey FOREIGN KEY (server_id) REFERENCES public.discord_server_configs (server_id) ON DELETE RESTRICT NOT VALID;

-- squawk-ignore ban-drop-constraint
ALTER TABLE public.discord_role_configs DROP CONSTRAINT discord_role_configs_server_id_fkey;

ALTER TABLE public.discord_role_configs
ADD CONSTRAINT discord_role_configs_server_id_fkey FOREIGN KEY (server_id) REFERENCES public.discord_server_configs (server_id) ON DELETE RESTRICT NOT VALID;

-- squawk-ignore ban-drop-constraint
ALTER TABLE public.discord_role_assignments DROP CONSTRAINT discord_role_assignments_server_id_fkey;

ALTER TABLE public.discord_role_assignments
ADD CONSTRAINT discord_role_assignments_server_id_fkey FOREIGN KEY (server_id) REFERENCES public.discord_server_configs (server_id) ON DELETE RESTRICT NOT VALID;

-- squawk-ignore ban-drop-constraint
ALTER TABLE public.discord_user_stats DROP CONSTRAINT discord_user_stats_server_id_fkey;

ALTER TABLE public.discord_user_stats
ADD CONSTRAINT discord_user_stats_server_id_fkey FOREIGN KEY (server_id) REFERENCES public.discord_server_configs (server_id) ON DELETE RESTRICT NOT VALID;

-- squawk-ignore ban-drop-constraint
ALTER TABLE public.discord_user_streaks DROP CONSTRAINT discord_user_streaks_server_id_fkey;

ALTER TABLE public.discord_user_streaks
ADD CONSTRAINT discord_user_streaks_server_id_fkey FOREIGN KEY (server_id) REFERENCES public.discord_server_configs (server_id) ON DELETE RESTRICT NOT VALID;

-- squawk-ignore ban-drop-constraint
ALTER TABLE public.discord_drops DROP CONSTRAINT discord_drops_server_id_fkey;

ALTER TABLE public.discord_drops
ADD CONSTRAINT discord_drops_server_id_fkey FOREIGN KEY (server_id) REFERENCES public.discord_server_configs (server_id) ON DELETE RESTRICT NOT VALID;

-- squawk-ignore ban-drop-constraint
ALTER TABLE public.discord_achievements DROP CONSTRAINT discord_achievements_server_id_fkey;

ALTER TABLE public.discord_achievements
ADD CONSTRAINT discord_achievements_server_id_fkey FOREIGN KEY (server_id) REFERENCES public.discord_server_configs (server_id) ON DELETE RESTRICT NOT VALID;

-- squawk-ignore ban-drop-constraint
ALTER TABLE public.discord_user_achievements DROP CONSTRAINT discord_user_achievements_server_id_fkey;

ALTER TABLE public.discord_user_achievements
ADD CONSTRAINT discord_user_achievements_server_id_fkey FOREIGN KEY (server_id) REFERENCES public.discord_server_configs (server_id) ON DELETE RESTRICT NOT VALID;

-- squawk-ignore ban-drop-constraint
ALTER TABLE public.discord_community_goals DROP CONSTRAINT discord_community_goals_server_id_fkey;

ALTER TABLE public.discord_community_goals
ADD CONSTRAINT discord_community_goals_server_id_fkey FOREIGN KEY (server_id) REFERENCES public.discord_server_configs (server_id) ON DELETE RESTRICT NOT VALID;

-- squawk-ignore ban-drop-constraint
ALTER TABLE public.discord_kpi_configs DROP CONSTRAINT discord_kpi_configs_server_id_fkey;

ALTER TABLE public.discord_kpi_configs
ADD CONSTRAINT discord_kpi_configs_server_id_fkey FOREIGN KEY (server_id) REFERENCES public.discord_server_configs (server_id) ON DELETE RESTRICT NOT VALID;

-- squawk-ignore ban-drop-constraint
ALTER TABLE public.discord_kpi_snapshots DROP CONSTRAINT discord_kpi_snapshots_server_id_fkey;

ALTER TABLE public.discord_kpi_snapshots
ADD CONSTRAINT discord_kpi_snapshots_server_id_fkey FOREIGN KEY (server_id) REFERENCES public.discord_server_configs (server_id) ON DELETE RESTRICT NOT VALID;

-- squawk-ignore ban-drop-constraint
ALTER TABLE public.discord_report_schedules DROP CONSTRAINT discord_report_schedules_server_id_fkey;

ALTER TABLE public.discord_report_schedules
ADD CONSTRAINT discord_report_schedules_server_id_fkey FOREIGN KEY (server_id) REFERENCES public.discord_server_configs (server_id) ON DELETE RESTRICT NOT VALID;
