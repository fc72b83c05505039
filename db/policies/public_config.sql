-- RLS for the configuration tables of schema public: a brand's Partner Portal users (authenticated,
-- brand from the JWT's app_metadata.brand_id) read and write their own brand's configuration;
-- discord_role_configs keeps the documented policies (anon reads active rows; its writes are off unless a server enables them).
-- service_role (the bot) has full access everywhere. See docs/security.md.

-- public.discord_server_configs
ALTER TABLE public.discord_server_configs ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.discord_server_configs;
CREATE POLICY "service_role has full access" ON public.discord_server_configs
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own servers" ON public.discord_server_configs;
CREATE POLICY "brand users read their own servers" ON public.discord_server_configs
AS PERMISSIVE FOR SELECT TO authenticated
USING (brand_id = (SELECT auth.jwt() -> 'app_metadata' ->> 'brand_id'));

DROP POLICY IF EXISTS "brand users change their own servers" ON public.discord_server_configs;
CREATE POLICY "brand users change their own servers" ON public.discord_server_configs
AS PERMISSIVE FOR UPDATE TO authenticated
USING (brand_id = (SELECT auth.jwt() -> 'app_metadata' ->> 'brand_id'))
WITH CHECK (brand_id = (SELECT auth.jwt() -> 'app_metadata' ->> 'brand_id'));

-- Linking or unlinking a server (INSERT, DELETE) is the bot's job; the portal edits the settings only.
REVOKE ALL ON public.discord_server_configs FROM anon, authenticated;
GRANT SELECT ON public.discord_server_configs TO authenticated;
GRANT UPDATE (server_name, is_active, config_metadata) ON public.discord_server_configs TO authenticated;
GRANT ALL ON public.discord_server_configs TO service_role;

-- A rule is the brand's; one bound to a server must be bound to a server of the same brand.
-- public.monitoring_rules
ALTER TABLE public.monitoring_rules ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.monitoring_rules;
CREATE POLICY "service_role has full access" ON public.monitoring_rules
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own event rules" ON public.monitoring_rules;
CREATE POLICY "brand users read their own event rules" ON public.monitoring_rules
AS PERMISSIVE FOR SELECT TO authenticated
USING (brand_id = (SELECT auth.jwt() -> 'app_metadata' ->> 'brand_id'));

DROP POLICY IF EXISTS "brand users add their own event rules" ON public.monitoring_rules;
CREATE POLICY "brand users add their own event rules" ON public.monitoring_rules
AS PERMISSIVE FOR INSERT TO authenticated
WITH CHECK (brand_id = (SELECT auth.jwt() -> 'app_metadata' ->> 'brand_id') AND (server_id IS NULL OR server_id = any(array(SELECT private.brand_server_ids()))));

DROP POLICY IF EXISTS "brand users change their own event rules" ON public.monitoring_rules;
CREATE POLICY "brand users change their own event rules" ON public.monitoring_rules
AS PERMISSIVE FOR UPDATE TO authenticated
USING (brand_id = (SELECT auth.jwt() -> 'app_metadata' ->> 'brand_id'))
WITH CHECK (brand_id = (SELECT auth.jwt() -> 'app_metadata' ->> 'brand_id') AND (server_id IS NULL OR server_id = any(array(SELECT private.brand_server_ids()))));

DROP POLICY IF EXISTS "brand users remove their own event rules" ON public.monitoring_rules;
CREATE POLICY "brand users remove their own event rules" ON public.monitoring_rules
AS PERMISSIVE FOR DELETE TO authenticated
USING (brand_id = (SELECT auth.jwt() -> 'app_metadata' ->> 'brand_id'));

REVOKE ALL ON public.monitoring_rules FROM anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.monitoring_rules TO authenticated;
GRANT ALL ON public.monitoring_rules TO service_role;

-- The documented names and commands, safe by default (issue 14, docs/security.md): anon reads
-- active rows; its writes reach active rows only, and the trigger private.validate_role_config
-- refuses them (RS603) unless the row's server sets config_metadata.security.anon_role_config_writes
-- to true, and refuses moving a row to another server or brand (RS604).
-- No policy for authenticated: hidden from the portal.
-- public.discord_role_configs
ALTER TABLE public.discord_role_configs ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role_full_access_role_configs" ON public.discord_role_configs;
CREATE POLICY "service_role_full_access_role_configs" ON public.discord_role_configs
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "anon_read_active_role_configs" ON public.discord_role_configs;
CREATE POLICY "anon_read_active_role_configs" ON public.discord_role_configs
AS PERMISSIVE FOR SELECT TO anon
USING (is_active = TRUE);

DROP POLICY IF EXISTS "anon_write_role_configs" ON public.discord_role_configs;
CREATE POLICY "anon_write_role_configs" ON public.discord_role_configs
AS PERMISSIVE FOR INSERT TO anon
WITH CHECK (is_active = TRUE);

DROP POLICY IF EXISTS "anon_update_role_configs" ON public.discord_role_configs;
CREATE POLICY "anon_update_role_configs" ON public.discord_role_configs
AS PERMISSIVE FOR UPDATE TO anon
USING (is_active = TRUE)
WITH CHECK (is_active = TRUE);

DROP POLICY IF EXISTS "anon_delete_role_configs" ON public.discord_role_configs;
CREATE POLICY "anon_delete_role_configs" ON public.discord_role_configs
AS PERMISSIVE FOR DELETE TO anon
USING (is_active = TRUE);

REVOKE ALL ON public.discord_role_configs FROM anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.discord_role_configs TO anon;
GRANT ALL ON public.discord_role_configs TO service_role;

-- public.discord_achievements
ALTER TABLE public.discord_achievements ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.discord_achievements;
CREATE POLICY "service_role has full access" ON public.discord_achievements
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own achievements" ON public.discord_achievements;
CREATE POLICY "brand users read their own achievements" ON public.discord_achievements
AS PERMISSIVE FOR SELECT TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

DROP POLICY IF EXISTS "brand users add achievements to their own servers" ON public.discord_achievements;
CREATE POLICY "brand users add achievements to their own servers" ON public.discord_achievements
AS PERMISSIVE FOR INSERT TO authenticated
WITH CHECK (server_id = any(array(SELECT private.brand_server_ids())));

DROP POLICY IF EXISTS "brand users change their own achievements" ON public.discord_achievements;
CREATE POLICY "brand users change their own achievements" ON public.discord_achievements
AS PERMISSIVE FOR UPDATE TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())))
WITH CHECK (server_id = any(array(SELECT private.brand_server_ids())));

DROP POLICY IF EXISTS "brand users remove their own achievements" ON public.discord_achievements;
CREATE POLICY "brand users remove their own achievements" ON public.discord_achievements
AS PERMISSIVE FOR DELETE TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

REVOKE ALL ON public.discord_achievements FROM anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.discord_achievements TO authenticated;
GRANT ALL ON public.discord_achievements TO service_role;

-- public.discord_community_goals
ALTER TABLE public.discord_community_goals ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.discord_community_goals;
CREATE POLICY "service_role has full access" ON public.discord_community_goals
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own goals" ON public.discord_community_goals;
CREATE POLICY "brand users read their own goals" ON public.discord_community_goals
AS PERMISSIVE FOR SELECT TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

DROP POLICY IF EXISTS "brand users add goals to their own servers" ON public.discord_community_goals;
CREATE POLICY "brand users add goals to their own servers" ON public.discord_community_goals
AS PERMISSIVE FOR INSERT TO authenticated
WITH CHECK (server_id = any(array(SELECT private.brand_server_ids())));

DROP POLICY IF EXISTS "brand users change their own goals" ON public.discord_community_goals;
CREATE POLICY "brand users change their own goals" ON public.discord_community_goals
AS PERMISSIVE FOR UPDATE TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())))
WITH CHECK (server_id = any(array(SELECT private.brand_server_ids())));

DROP POLICY IF EXISTS "brand users remove their own goals" ON public.discord_community_goals;
CREATE POLICY "brand users remove their own goals" ON public.discord_community_goals
AS PERMISSIVE FOR DELETE TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

REVOKE ALL ON public.discord_community_goals FROM anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.discord_community_goals TO authenticated;
GRANT ALL ON public.discord_community_goals TO service_role;

-- public.discord_kpi_configs
ALTER TABLE public.discord_kpi_configs ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.discord_kpi_configs;
CREATE POLICY "service_role has full access" ON public.discord_kpi_configs
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own KPI targets" ON public.discord_kpi_configs;
CREATE POLICY "brand users read their own KPI targets" ON public.discord_kpi_configs
AS PERMISSIVE FOR SELECT TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

DROP POLICY IF EXISTS "brand users add KPI targets to their own servers" ON public.discord_kpi_configs;
CREATE POLICY "brand users add KPI targets to their own servers" ON public.discord_kpi_configs
AS PERMISSIVE FOR INSERT TO authenticated
WITH CHECK (server_id = any(array(SELECT private.brand_server_ids())));

DROP POLICY IF EXISTS "brand users change their own KPI targets" ON public.discord_kpi_configs;
CREATE POLICY "brand users change their own KPI targets" ON public.discord_kpi_configs
AS PERMISSIVE FOR UPDATE TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())))
WITH CHECK (server_id = any(array(SELECT private.brand_server_ids())));

DROP POLICY IF EXISTS "brand users remove their own KPI targets" ON public.discord_kpi_configs;
CREATE POLICY "brand users remove their own KPI targets" ON public.discord_kpi_configs
AS PERMISSIVE FOR DELETE TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

REVOKE ALL ON public.discord_kpi_configs FROM anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.discord_kpi_configs TO authenticated;
GRANT ALL ON public.discord_kpi_configs TO service_role;

-- public.discord_report_schedules
ALTER TABLE public.discord_report_schedules ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.discord_report_schedules;
CREATE POLICY "service_role has full access" ON public.discord_report_schedules
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own report schedules" ON public.discord_report_schedules;
CREATE POLICY "brand users read their own report schedules" ON public.discord_report_schedules
AS PERMISSIVE FOR SELECT TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

DROP POLICY IF EXISTS "brand users add report schedules to their own servers" ON public.discord_report_schedules;
CREATE POLICY "brand users add report schedules to their own servers" ON public.discord_report_schedules
AS PERMISSIVE FOR INSERT TO authenticated
WITH CHECK (server_id = any(array(SELECT private.brand_server_ids())));

DROP POLICY IF EXISTS "brand users change their own report schedules" ON public.discord_report_schedules;
CREATE POLICY "brand users change their own report schedules" ON public.discord_report_schedules
AS PERMISSIVE FOR UPDATE TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())))
WITH CHECK (server_id = any(array(SELECT private.brand_server_ids())));

DROP POLICY IF EXISTS "brand users remove their own report schedules" ON public.discord_report_schedules;
CREATE POLICY "brand users remove their own report schedules" ON public.discord_report_schedules
AS PERMISSIVE FOR DELETE TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

REVOKE ALL ON public.discord_report_schedules FROM anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.discord_report_schedules TO authenticated;
GRANT ALL ON public.discord_report_schedules TO service_role;
