-- Tenant isolation for the analytics warehouse. Every table: RLS enabled and forced. Readers:
--   analytics_console  the sealed console (analytics.console_query): its granted tenant only;
--   authenticated      a Partner Portal user: the rows of the brand in its JWT (app_metadata.brand_id).
-- Deleted messages (deleted_at set) are hidden from both: they count nowhere.
-- Writes come only from service_role (BYPASSRLS) through analytics.apply_batch and friends.
-- user_interactions and daily_stats are service_role views over the rollups: tenants read them
-- through the filtering views below.

DO $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY[
        'servers', 'users', 'server_members', 'channels', 'messages', 'message_mentions', 'emojis', 'reactions', 'sync_state',
        'interaction_counts', 'daily_author_counts', 'tenant_settings'
    ] LOOP
        EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', v_table);
        EXECUTE format('ALTER TABLE analytics.%I FORCE ROW LEVEL SECURITY', v_table);
        EXECUTE format('REVOKE ALL ON analytics.%I FROM public, anon, authenticated, analytics_console', v_table);
        EXECUTE format('GRANT SELECT ON analytics.%I TO authenticated, analytics_console', v_table);
        EXECUTE format('DROP POLICY IF EXISTS "Console reads its tenant''s rows" ON analytics.%I', v_table);
        EXECUTE format(
            'CREATE POLICY "Console reads its tenant''s rows" ON analytics.%I FOR SELECT TO analytics_console '
            'USING (tenant_id = (SELECT analytics.console_tenant())%s)',
            v_table, CASE WHEN v_table = 'messages' THEN ' AND deleted_at IS NULL' ELSE '' END
        );
        EXECUTE format('DROP POLICY IF EXISTS "Brand members read their brand''s rows" ON analytics.%I', v_table);
        EXECUTE format(
            'CREATE POLICY "Brand members read their brand''s rows" ON analytics.%I FOR SELECT TO authenticated '
            'USING (tenant_id = (SELECT auth.jwt() -> ''app_metadata'' ->> ''brand_id'')%s)',
            v_table, CASE WHEN v_table = 'messages' THEN ' AND deleted_at IS NULL' ELSE '' END
        );
    END LOOP;
END;
$$;

ALTER TABLE resonance.analytics_console_grants ENABLE ROW LEVEL SECURITY;

ALTER TABLE resonance.analytics_console_grants FORCE ROW LEVEL SECURITY;

REVOKE ALL ON resonance.analytics_console_grants FROM public, anon, authenticated, analytics_console;

CREATE OR REPLACE VIEW analytics.tenant_user_interactions WITH (security_barrier = TRUE) AS
SELECT
    ui.server_id,
    ui.from_user_id,
    fu.username AS from_username,
    ui.to_user_id,
    tu.username AS to_username,
    ui.replies,
    ui.reactions,
    ui.mentions,
    ui.total
FROM analytics.user_interactions AS ui
LEFT JOIN analytics.users AS fu ON ui.tenant_id = fu.tenant_id AND ui.from_user_id = fu.id
LEFT JOIN analytics.users AS tu ON ui.tenant_id = tu.tenant_id AND ui.to_user_id = tu.id
WHERE ui.tenant_id = (SELECT analytics.request_tenant());

COMMENT ON VIEW analytics.tenant_user_interactions IS 'The reader''s own tenant''s rows of analytics.user_interactions (console or Partner Portal).';

CREATE OR REPLACE VIEW analytics.tenant_daily_stats WITH (security_barrier = TRUE) AS
SELECT
    ds.server_id,
    ds.channel_id,
    ds.day,
    ds.messages,
    ds.active_members
FROM analytics.daily_stats AS ds
WHERE ds.tenant_id = (SELECT analytics.request_tenant());

COMMENT ON VIEW analytics.tenant_daily_stats IS 'The reader''s own tenant''s rows of analytics.daily_stats (channel_id 0 = whole server).';

REVOKE ALL ON analytics.tenant_user_interactions, analytics.tenant_daily_stats FROM public, anon;

GRANT SELECT ON analytics.tenant_user_interactions, analytics.tenant_daily_stats TO authenticated, analytics_console, service_role;
