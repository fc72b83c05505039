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
