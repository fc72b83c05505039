-- Extensions live in schema extensions (as on Supabase), so every function can qualify them
-- the same way everywhere: extensions.similarity(...).

CREATE SCHEMA IF NOT EXISTS extensions;

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions;

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;

-- pg_cron can only be created in the one database named by cron.database_name; elsewhere
-- (databases cloned for tests) the jobs are skipped with a notice.
DO $$
BEGIN
    IF current_database() = current_setting('cron.database_name', true)
        AND EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = 'pg_cron') THEN
        CREATE EXTENSION IF NOT EXISTS pg_cron;
    ELSE
        RAISE NOTICE 'pg_cron is not available in database %: scheduled jobs are skipped here', current_database();
    END IF;
END;
$$;

CREATE SCHEMA IF NOT EXISTS resonance;

CREATE SCHEMA IF NOT EXISTS tipping;

CREATE SCHEMA IF NOT EXISTS analytics;

COMMENT ON SCHEMA resonance IS 'The engine: event functions, internal tables (reward ledger, event dedup, daily activity, outbox). service_role only.';
COMMENT ON SCHEMA tipping IS 'The tipping ledger (JustTheTip schema): balances, transactions, tips, wallets, badges, tickets.';
COMMENT ON SCHEMA analytics IS 'The analytics warehouse: messages, replies, mentions and reactions per tenant.';

-- Default deny: nothing we create is executable by PUBLIC unless granted beside it.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM public;

ALTER DEFAULT PRIVILEGES IN SCHEMA resonance REVOKE EXECUTE ON FUNCTIONS FROM public;

ALTER DEFAULT PRIVILEGES IN SCHEMA tipping REVOKE EXECUTE ON FUNCTIONS FROM public;

ALTER DEFAULT PRIVILEGES IN SCHEMA analytics REVOKE EXECUTE ON FUNCTIONS FROM public;

REVOKE ALL ON SCHEMA resonance FROM public;

REVOKE ALL ON SCHEMA tipping FROM public;

REVOKE ALL ON SCHEMA analytics FROM public;

GRANT USAGE ON SCHEMA extensions TO public;

GRANT USAGE ON SCHEMA resonance TO service_role;

GRANT USAGE ON SCHEMA tipping TO service_role, authenticated;

GRANT USAGE ON SCHEMA analytics TO service_role, authenticated;

ALTER DEFAULT PRIVILEGES IN SCHEMA resonance GRANT ALL ON TABLES TO service_role;

ALTER DEFAULT PRIVILEGES IN SCHEMA resonance GRANT ALL ON SEQUENCES TO service_role;

ALTER DEFAULT PRIVILEGES IN SCHEMA tipping GRANT ALL ON TABLES TO service_role;

ALTER DEFAULT PRIVILEGES IN SCHEMA tipping GRANT ALL ON SEQUENCES TO service_role;

ALTER DEFAULT PRIVILEGES IN SCHEMA analytics GRANT ALL ON TABLES TO service_role;

ALTER DEFAULT PRIVILEGES IN SCHEMA analytics GRANT ALL ON SEQUENCES TO service_role;
