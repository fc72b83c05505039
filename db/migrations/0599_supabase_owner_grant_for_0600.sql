-- Numbered before 0600 on purpose (an exception to the numbering ranges; see docs/supabase.md).
-- 0600 gives its two materialized views to service_role. On Supabase the deploy role `postgres`
-- is not a superuser, and a non-superuser may give an object to a role only when that role may
-- CREATE in the object's schema: service_role needs CREATE on analytics for that one statement.
-- 1000 takes it back. On a database that applied 0600 already, this and 1000 cancel out.
GRANT CREATE ON SCHEMA analytics TO service_role;
