-- Shared trigger functions.

CREATE OR REPLACE FUNCTION resonance.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION resonance.touch_updated_at() IS 'Trigger: stamps updated_at on every UPDATE. Attached to every table of ours that has an updated_at column (in public: the documented Resonance tables only).';

REVOKE ALL ON FUNCTION resonance.touch_updated_at() FROM public;

-- Attach to every table of ours with an updated_at column, including tables later migrations add:
-- every table of our own schemas, and in public only the documented Resonance tables (the Partner
-- Portal shares public on Supabase; its tables are not ours to change). A trigger of ours that an
-- earlier version of this file put on someone else's table in public is removed.
DO $$
DECLARE
    ours_in_public constant text [] := ARRAY[
        'discord_server_configs', 'monitoring_rules', 'discord_role_configs', 'discord_role_assignments',
        'discord_user_stats', 'discord_user_streaks', 'discord_drops', 'discord_drop_claims',
        'discord_achievements', 'discord_user_achievements', 'discord_community_goals', 'discord_audit_log',
        'discord_kpi_configs', 'discord_kpi_snapshots', 'discord_report_schedules'
    ];
    target record;
BEGIN
    FOR target IN
        SELECT c.table_schema, c.table_name
        FROM information_schema.columns AS c
        INNER JOIN information_schema.tables AS t
            ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.column_name = 'updated_at'
            AND t.table_type = 'BASE TABLE'
            AND (
                c.table_schema IN ('resonance', 'tipping', 'analytics')
                OR (c.table_schema = 'public' AND c.table_name = ANY(ours_in_public))
            )
    LOOP
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER touch_updated_at BEFORE UPDATE ON %I.%I '
            'FOR EACH ROW EXECUTE FUNCTION resonance.touch_updated_at()',
            target.table_schema, target.table_name
        );
    END LOOP;
    FOR target IN
        SELECT tg.tgname, cl.relname
        FROM pg_catalog.pg_trigger AS tg
        INNER JOIN pg_catalog.pg_class AS cl ON cl.oid = tg.tgrelid
        WHERE cl.relnamespace = 'public'::regnamespace
            AND tg.tgfoid = 'resonance.touch_updated_at()'::regprocedure
            AND NOT cl.relname = ANY(ours_in_public)
    LOOP
        EXECUTE format('DROP TRIGGER %I ON public.%I', target.tgname, target.relname);
    END LOOP;
END;
$$;
