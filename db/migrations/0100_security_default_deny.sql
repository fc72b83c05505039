-- Security: default deny for the API roles, the private schema for policy helpers, and an index
-- under every column a policy filters on that had none.

-- Policy helpers live in a schema that PostgREST never exposes. authenticated needs USAGE to run
-- them inside its policies; anon never reaches them.
CREATE SCHEMA IF NOT EXISTS private;

COMMENT ON SCHEMA private IS 'RLS policy helpers (never exposed through the REST API). authenticated may use them; anon may not.';

REVOKE ALL ON SCHEMA private FROM public;

GRANT USAGE ON SCHEMA private TO authenticated, service_role;

ALTER DEFAULT PRIVILEGES IN SCHEMA private REVOKE EXECUTE ON FUNCTIONS FROM public;

-- Supabase (and db/local) grant anon and authenticated ALL on every new table, sequence and
-- function in public. Turn that off for everything we create from here on: each table gets
-- explicit grants beside its policies (db/policies/), and anything without them stays closed.
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM anon, authenticated;

ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM anon, authenticated;

ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON FUNCTIONS FROM public, anon, authenticated;

ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM anon, authenticated;

-- And for what already exists: the policy files grant back exactly what the matrix allows.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM anon, authenticated;

REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM anon, authenticated;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM public, anon, authenticated;

REVOKE ALL ON ALL TABLES IN SCHEMA tipping FROM anon, authenticated;

REVOKE ALL ON ALL TABLES IN SCHEMA analytics FROM anon, authenticated;

REVOKE ALL ON ALL TABLES IN SCHEMA resonance FROM anon, authenticated;

-- Columns that policies filter on and that no index led with yet.
CREATE INDEX idx_transactions_brand_id ON tipping.transactions (brand_id);

CREATE INDEX idx_tips_server_id ON tipping.tips (server_id);
