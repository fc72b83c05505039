-- Security helpers: RLS policy helpers in schema private (never exposed through the REST API),
-- and the role-config trigger that lets the documented DELETE + INSERT replace an inactive row.

CREATE OR REPLACE FUNCTION private.brand_server_ids()
RETURNS SETOF text
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT c.server_id
    FROM public.discord_server_configs AS c
    WHERE c.brand_id = (SELECT auth.jwt() -> 'app_metadata' ->> 'brand_id')
$$;

COMMENT ON FUNCTION private.brand_server_ids() IS
'RLS helper: the server ids of the brand named in the request JWT (app_metadata.brand_id); none without one. '
'SECURITY INVOKER: it reads discord_server_configs through that table''s own brand policy. '
'Policies call it as server_id = any(array(SELECT private.brand_server_ids())): an init plan that runs once per statement, and an index condition on server_id.';

REVOKE ALL ON FUNCTION private.brand_server_ids() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.brand_server_ids() TO authenticated, service_role;

-- The documented milestone write is DELETE + INSERT. anon's DELETE only sees active rows (its
-- SELECT policy), while unique_server_role sees every row, so an inactive row would block the
-- INSERT forever. Before an anon INSERT, an inactive row with the same (server_id, discord_role_id)
-- is removed: to anon it is a tombstone, and the new row replaces it. An active row still
-- conflicts (23505). Roles that see every row (service_role, the bot's login role) are left alone:
-- their ON CONFLICT upserts take the inactive row over (resonance.create_milestone does).
-- The caller is read from the role setting (PostgREST's SET LOCAL ROLE), which a SECURITY DEFINER
-- function does not change.
CREATE OR REPLACE FUNCTION private.replace_inactive_role_config()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    IF pg_catalog.current_setting('role', TRUE) IS DISTINCT FROM 'anon' THEN
        RETURN NEW;
    END IF;
    DELETE FROM public.discord_role_configs AS c
    WHERE c.server_id = NEW.server_id
        AND c.discord_role_id = NEW.discord_role_id
        AND c.is_active IS NOT TRUE;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION private.replace_inactive_role_config() IS
'Trigger (BEFORE INSERT on discord_role_configs): for an anon insert, deletes an inactive row with the same server and role, which RLS hides from anon '
'but unique_server_role still sees, so the documented DELETE + INSERT creates a milestone over it. Other roles upsert over it instead. '
'SECURITY DEFINER because the row it removes is invisible to the caller; executable by nobody (a trigger needs no EXECUTE).';

REVOKE ALL ON FUNCTION private.replace_inactive_role_config() FROM public, anon, authenticated, service_role;

CREATE OR REPLACE TRIGGER replace_inactive_role_config
BEFORE INSERT ON public.discord_role_configs
FOR EACH ROW EXECUTE FUNCTION private.replace_inactive_role_config();
