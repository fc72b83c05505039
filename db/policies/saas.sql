-- RLS for schema saas (docs/web.md): a signed-in brand user (authenticated, brand from the JWT's
-- app_metadata.brand_id) reads its own subscription, usage, bot connection (not the token) and
-- extraction jobs, and may remove its bot connection; every other write goes through the
-- functions of db/functions/saas.sql. service_role (worker, webhook) has full access.

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['plans', 'subscriptions', 'query_usage', 'stripe_events', 'bot_connections', 'extraction_jobs'] LOOP
        EXECUTE format('ALTER TABLE saas.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE saas.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('REVOKE ALL ON saas.%I FROM public, anon, authenticated', t);
        EXECUTE format('GRANT ALL ON saas.%I TO service_role', t);
        EXECUTE format('DROP POLICY IF EXISTS "service_role has full access" ON saas.%I', t);
        EXECUTE format('CREATE POLICY "service_role has full access" ON saas.%I AS PERMISSIVE FOR ALL TO service_role USING (TRUE) WITH CHECK (TRUE)', t);
    END LOOP;
END;
$$;

DROP POLICY IF EXISTS "signed-in users read the plans" ON saas.plans;
CREATE POLICY "signed-in users read the plans" ON saas.plans
AS PERMISSIVE FOR SELECT TO authenticated
USING (TRUE);
GRANT SELECT ON saas.plans TO authenticated;

DROP POLICY IF EXISTS "brand users read their own subscription" ON saas.subscriptions;
CREATE POLICY "brand users read their own subscription" ON saas.subscriptions
AS PERMISSIVE FOR SELECT TO authenticated
USING (brand_id = (SELECT saas.request_brand()));
GRANT SELECT ON saas.subscriptions TO authenticated;

DROP POLICY IF EXISTS "brand users read their own usage" ON saas.query_usage;
CREATE POLICY "brand users read their own usage" ON saas.query_usage
AS PERMISSIVE FOR SELECT TO authenticated
USING (brand_id = (SELECT saas.request_brand()));
GRANT SELECT ON saas.query_usage TO authenticated;

DROP POLICY IF EXISTS "brand users read their own bot connection" ON saas.bot_connections;
CREATE POLICY "brand users read their own bot connection" ON saas.bot_connections
AS PERMISSIVE FOR SELECT TO authenticated
USING (brand_id = (SELECT saas.request_brand()));

DROP POLICY IF EXISTS "brand users remove their own bot connection" ON saas.bot_connections;
CREATE POLICY "brand users remove their own bot connection" ON saas.bot_connections
AS PERMISSIVE FOR DELETE TO authenticated
USING (brand_id = (SELECT saas.request_brand()));
-- Every column but the token's ciphertext.
GRANT SELECT (brand_id, guild_id, connected_by, connected_at) ON saas.bot_connections TO authenticated;
GRANT DELETE ON saas.bot_connections TO authenticated;

DROP POLICY IF EXISTS "brand users read their own extraction jobs" ON saas.extraction_jobs;
CREATE POLICY "brand users read their own extraction jobs" ON saas.extraction_jobs
AS PERMISSIVE FOR SELECT TO authenticated
USING (brand_id = (SELECT saas.request_brand()));
GRANT SELECT ON saas.extraction_jobs TO authenticated;
