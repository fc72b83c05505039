-- Supabase: the deploy role `postgres` is not a superuser (CREATEROLE, BYPASSRLS).
-- 0599 let service_role CREATE in analytics for 0600's two ownership changes only: take it back.
REVOKE CREATE ON SCHEMA analytics FROM service_role;

-- db/functions/analytics_console.sql gives analytics.console_run to analytics_console (a privilege
-- drop: the console must never run as a BYPASSRLS role). Replacing a function later needs its
-- owner's rights, so the deploy role joins analytics_console (it may then act as that role, never
-- the reverse: analytics_console gains nothing).
GRANT analytics_console TO current_user;

-- Sharing public with the Partner Portal: 0100 changed the default privileges of everything the
-- deploy role creates in public later, the portal's tables and functions included. Give public its
-- Supabase defaults back; each table of ours carries explicit grants beside its policies
-- (db/policies/), and the security lints fail on any table of ours that anon or authenticated
-- could reach without them. (0100's one-time REVOKEs on existing objects never reach the portal's:
-- the runner restores the privileges of every object in public that no file of ours creates.)
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated;

ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated;

ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO anon, authenticated;
