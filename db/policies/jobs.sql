-- public.discord_job_errors (issue 14, db/functions/job_isolation.sql): written by the shared jobs
-- (service_role); a brand's Partner Portal users read the rows of their own servers.
ALTER TABLE public.discord_job_errors ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON public.discord_job_errors;
CREATE POLICY "service_role has full access" ON public.discord_job_errors
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "brand users read their own job errors" ON public.discord_job_errors;
CREATE POLICY "brand users read their own job errors" ON public.discord_job_errors
AS PERMISSIVE FOR SELECT TO authenticated
USING (server_id = any(array(SELECT private.brand_server_ids())));

REVOKE ALL ON public.discord_job_errors FROM anon, authenticated;
GRANT SELECT ON public.discord_job_errors TO authenticated;
GRANT ALL ON public.discord_job_errors TO service_role;
-- The identity column's sequence: Supabase's default privileges grant public sequences to the API roles.
REVOKE ALL ON SEQUENCE public.discord_job_errors_id_seq FROM anon, authenticated;
