-- RLS for the tipping ledger: service_role (the bot and the ledger functions) only. RLS is enabled
-- and forced on every table, and nothing is granted to anon or authenticated: a Partner Portal user
-- sees no member, balance, transaction, tip, wallet, badge, nonce, verification, ticket or currency.
-- (anon has no USAGE on schema tipping at all.) The ledger's own tests assert the same.

-- tipping.currencies
ALTER TABLE tipping.currencies ENABLE ROW LEVEL SECURITY;
ALTER TABLE tipping.currencies FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON tipping.currencies;
CREATE POLICY "service_role has full access" ON tipping.currencies
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

REVOKE ALL ON tipping.currencies FROM anon, authenticated;
GRANT ALL ON tipping.currencies TO service_role;

-- tipping.users
ALTER TABLE tipping.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE tipping.users FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON tipping.users;
CREATE POLICY "service_role has full access" ON tipping.users
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

REVOKE ALL ON tipping.users FROM anon, authenticated;
GRANT ALL ON tipping.users TO service_role;

-- tipping.balances
ALTER TABLE tipping.balances ENABLE ROW LEVEL SECURITY;
ALTER TABLE tipping.balances FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON tipping.balances;
CREATE POLICY "service_role has full access" ON tipping.balances
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

REVOKE ALL ON tipping.balances FROM anon, authenticated;
GRANT ALL ON tipping.balances TO service_role;

-- tipping.transactions
ALTER TABLE tipping.transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE tipping.transactions FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON tipping.transactions;
CREATE POLICY "service_role has full access" ON tipping.transactions
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

REVOKE ALL ON tipping.transactions FROM anon, authenticated;
GRANT ALL ON tipping.transactions TO service_role;

-- tipping.tips
ALTER TABLE tipping.tips ENABLE ROW LEVEL SECURITY;
ALTER TABLE tipping.tips FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON tipping.tips;
CREATE POLICY "service_role has full access" ON tipping.tips
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

REVOKE ALL ON tipping.tips FROM anon, authenticated;
GRANT ALL ON tipping.tips TO service_role;

-- tipping.trust_badges
ALTER TABLE tipping.trust_badges ENABLE ROW LEVEL SECURITY;
ALTER TABLE tipping.trust_badges FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON tipping.trust_badges;
CREATE POLICY "service_role has full access" ON tipping.trust_badges
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

REVOKE ALL ON tipping.trust_badges FROM anon, authenticated;
GRANT ALL ON tipping.trust_badges TO service_role;

-- tipping.wallet_registrations
ALTER TABLE tipping.wallet_registrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE tipping.wallet_registrations FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON tipping.wallet_registrations;
CREATE POLICY "service_role has full access" ON tipping.wallet_registrations
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

REVOKE ALL ON tipping.wallet_registrations FROM anon, authenticated;
GRANT ALL ON tipping.wallet_registrations TO service_role;

-- tipping.registration_nonces
ALTER TABLE tipping.registration_nonces ENABLE ROW LEVEL SECURITY;
ALTER TABLE tipping.registration_nonces FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON tipping.registration_nonces;
CREATE POLICY "service_role has full access" ON tipping.registration_nonces
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

REVOKE ALL ON tipping.registration_nonces FROM anon, authenticated;
GRANT ALL ON tipping.registration_nonces TO service_role;

-- tipping.verifications
ALTER TABLE tipping.verifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE tipping.verifications FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON tipping.verifications;
CREATE POLICY "service_role has full access" ON tipping.verifications
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

REVOKE ALL ON tipping.verifications FROM anon, authenticated;
GRANT ALL ON tipping.verifications TO service_role;

-- tipping.tickets
ALTER TABLE tipping.tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE tipping.tickets FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON tipping.tickets;
CREATE POLICY "service_role has full access" ON tipping.tickets
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

REVOKE ALL ON tipping.tickets FROM anon, authenticated;
GRANT ALL ON tipping.tickets TO service_role;

-- Retired: the portal's read windows on transactions and tips (an earlier version of this file).
DROP POLICY IF EXISTS "brand users read their own transactions" ON tipping.transactions;
DROP POLICY IF EXISTS "brand users read their own tips" ON tipping.tips;
