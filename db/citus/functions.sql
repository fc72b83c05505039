-- Citus only (applied by `resonance migrate` on a Citus coordinator, never on plain Postgres or
-- Supabase): what the distribution plan needs beside the normal schema.

CREATE OR REPLACE FUNCTION private.brand_server_id_array()
RETURNS text []
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT coalesce(array_agg(s.server_id), '{}'::text []) FROM private.brand_server_ids() AS s (server_id)
$$;

COMMENT ON FUNCTION private.brand_server_id_array() IS
'Citus only: private.brand_server_ids() as one array, so a policy can say server_id = any(private.brand_server_id_array()) without the subquery Citus refuses in policies of distributed tables.';

REVOKE ALL ON FUNCTION private.brand_server_id_array() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.brand_server_id_array() TO authenticated, service_role;

CREATE OR REPLACE FUNCTION private.citus_shard_is_local(p_table regclass, p_value text)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT EXISTS (
        SELECT FROM pg_catalog.pg_dist_placement AS p
        WHERE p.shardid = pg_catalog.get_shard_id_for_distribution_column(p_table, p_value)
            AND p.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group AS g)
    )
$$;

COMMENT ON FUNCTION private.citus_shard_is_local(regclass, text) IS
'Citus only: does this node hold the shard of distributed table p_table for distribution value p_value? The audit triggers of reference tables fire only where it is true (WHEN), so a configuration change is audited once, on the node that holds its server''s audit shard, in the same local transaction.';

REVOKE ALL ON FUNCTION private.citus_shard_is_local(regclass, text) FROM public;
GRANT EXECUTE ON FUNCTION private.citus_shard_is_local(regclass, text) TO anon, authenticated, service_role;
