-- RLS for the activity tables of schema public: statistics, claims, assignments, drops, snapshots
-- and the audit log are written by service_role (the bot and our functions) only; a brand's
-- Partner Portal users read the rows of their own servers. Nobody but service_role writes the audit log.

-- public.discord_role_assignments
ALTER TABLE public.discord_role_assignments ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.discord_role_assignments;
CREATE POLICY "service_role has full access" ON public.discord_role_assignments
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own role assignments" ON public.discord_role_assignments;
CREATE POLICY "brand users read their own role assignments" ON public.discord_role_assignments
AS PERMISSIVE FOR SELECT TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

REVOKE ALL ON public.discord_role_assignments FROM anon, authenticated;
GRANT SELECT ON public.discord_role_assignments TO authenticated;
GRANT ALL ON public.discord_role_assignments TO service_role;

-- public.discord_user_stats
ALTER TABLE public.discord_user_stats ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.discord_user_stats;
CREATE POLICY "service_role has full access" ON public.discord_user_stats
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own member stats" ON public.discord_user_stats;
CREATE POLICY "brand users read their own member stats" ON public.discord_user_stats
AS PERMISSIVE FOR SELECT TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

REVOKE ALL ON public.discord_user_stats FROM anon, authenticated;
GRANT SELECT ON public.discord_user_stats TO authenticated;
GRANT ALL ON public.discord_user_stats TO service_role;

-- public.discord_user_streaks
ALTER TABLE public.discord_user_streaks ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.discord_user_streaks;
CREATE POLICY "service_role has full access" ON public.discord_user_streaks
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own member streaks" ON public.discord_user_streaks;
CREATE POLICY "brand users read their own member streaks" ON public.discord_user_streaks
AS PERMISSIVE FOR SELECT TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

REVOKE ALL ON public.discord_user_streaks FROM anon, authenticated;
GRANT SELECT ON public.discord_user_streaks TO authenticated;
GRANT ALL ON public.discord_user_streaks TO service_role;

-- public.discord_drops
ALTER TABLE public.discord_drops ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.discord_drops;
CREATE POLICY "service_role has full access" ON public.discord_drops
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own drops" ON public.discord_drops;
CREATE POLICY "brand users read their own drops" ON public.discord_drops
AS PERMISSIVE FOR SELECT TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

REVOKE ALL ON public.discord_drops FROM anon, authenticated;
GRANT SELECT ON public.discord_drops TO authenticated;
GRANT ALL ON public.discord_drops TO service_role;

-- public.discord_drop_claims
ALTER TABLE public.discord_drop_claims ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.discord_drop_claims;
CREATE POLICY "service_role has full access" ON public.discord_drop_claims
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own drop claims" ON public.discord_drop_claims;
CREATE POLICY "brand users read their own drop claims" ON public.discord_drop_claims
AS PERMISSIVE FOR SELECT TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

REVOKE ALL ON public.discord_drop_claims FROM anon, authenticated;
GRANT SELECT ON public.discord_drop_claims TO authenticated;
GRANT ALL ON public.discord_drop_claims TO service_role;

-- public.discord_user_achievements
ALTER TABLE public.discord_user_achievements ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.discord_user_achievements;
CREATE POLICY "service_role has full access" ON public.discord_user_achievements
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own member achievements" ON public.discord_user_achievements;
CREATE POLICY "brand users read their own member achievements" ON public.discord_user_achievements
AS PERMISSIVE FOR SELECT TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

REVOKE ALL ON public.discord_user_achievements FROM anon, authenticated;
GRANT SELECT ON public.discord_user_achievements TO authenticated;
GRANT ALL ON public.discord_user_achievements TO service_role;

-- public.discord_kpi_snapshots
ALTER TABLE public.discord_kpi_snapshots ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.discord_kpi_snapshots;
CREATE POLICY "service_role has full access" ON public.discord_kpi_snapshots
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own KPI snapshots" ON public.discord_kpi_snapshots;
CREATE POLICY "brand users read their own KPI snapshots" ON public.discord_kpi_snapshots
AS PERMISSIVE FOR SELECT TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

REVOKE ALL ON public.discord_kpi_snapshots FROM anon, authenticated;
GRANT SELECT ON public.discord_kpi_snapshots TO authenticated;
GRANT ALL ON public.discord_kpi_snapshots TO service_role;

-- The audit log: entries of the brand's servers, and of its brand-wide rules (server_id 'brand:<id>').
-- public.discord_audit_log
ALTER TABLE public.discord_audit_log ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.discord_audit_log;
CREATE POLICY "service_role has full access" ON public.discord_audit_log
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own audit log" ON public.discord_audit_log;
CREATE POLICY "brand users read their own audit log" ON public.discord_audit_log
AS PERMISSIVE FOR SELECT TO authenticated
USING (brand_id = (SELECT auth.jwt() -> 'app_metadata' ->> 'brand_id') OR server_id = any(array(SELECT private.brand_server_ids())));

REVOKE ALL ON public.discord_audit_log FROM anon, authenticated;
GRANT SELECT ON public.discord_audit_log TO authenticated;
GRANT ALL ON public.discord_audit_log TO service_role;
