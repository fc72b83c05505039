-- PLACEHOLDER written by the security helper so the RLS lints pass; the analytics helper owns this
-- file and replaces it wholesale. Tenant isolation as the analytics docs describe: FORCE RLS, the
-- tenant read from the transaction-local setting app.current_tenant; service_role full access.

-- analytics.servers
ALTER TABLE analytics.servers ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.servers FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON analytics.servers;
CREATE POLICY "service_role has full access" ON analytics.servers
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "tenant users read their own tenant rows" ON analytics.servers;
CREATE POLICY "tenant users read their own tenant rows" ON analytics.servers
AS PERMISSIVE FOR SELECT TO authenticated
USING (tenant_id = (SELECT current_setting('app.current_tenant', TRUE)));

REVOKE ALL ON analytics.servers FROM anon, authenticated;
GRANT SELECT ON analytics.servers TO authenticated;
GRANT ALL ON analytics.servers TO service_role;

-- analytics.users
ALTER TABLE analytics.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.users FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON analytics.users;
CREATE POLICY "service_role has full access" ON analytics.users
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "tenant users read their own tenant rows" ON analytics.users;
CREATE POLICY "tenant users read their own tenant rows" ON analytics.users
AS PERMISSIVE FOR SELECT TO authenticated
USING (tenant_id = (SELECT current_setting('app.current_tenant', TRUE)));

REVOKE ALL ON analytics.users FROM anon, authenticated;
GRANT SELECT ON analytics.users TO authenticated;
GRANT ALL ON analytics.users TO service_role;

-- analytics.server_members
ALTER TABLE analytics.server_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.server_members FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON analytics.server_members;
CREATE POLICY "service_role has full access" ON analytics.server_members
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "tenant users read their own tenant rows" ON analytics.server_members;
CREATE POLICY "tenant users read their own tenant rows" ON analytics.server_members
AS PERMISSIVE FOR SELECT TO authenticated
USING (tenant_id = (SELECT current_setting('app.current_tenant', TRUE)));

REVOKE ALL ON analytics.server_members FROM anon, authenticated;
GRANT SELECT ON analytics.server_members TO authenticated;
GRANT ALL ON analytics.server_members TO service_role;

-- analytics.channels
ALTER TABLE analytics.channels ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.channels FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON analytics.channels;
CREATE POLICY "service_role has full access" ON analytics.channels
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "tenant users read their own tenant rows" ON analytics.channels;
CREATE POLICY "tenant users read their own tenant rows" ON analytics.channels
AS PERMISSIVE FOR SELECT TO authenticated
USING (tenant_id = (SELECT current_setting('app.current_tenant', TRUE)));

REVOKE ALL ON analytics.channels FROM anon, authenticated;
GRANT SELECT ON analytics.channels TO authenticated;
GRANT ALL ON analytics.channels TO service_role;

-- analytics.messages
ALTER TABLE analytics.messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.messages FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON analytics.messages;
CREATE POLICY "service_role has full access" ON analytics.messages
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "tenant users read their own tenant rows" ON analytics.messages;
CREATE POLICY "tenant users read their own tenant rows" ON analytics.messages
AS PERMISSIVE FOR SELECT TO authenticated
USING (tenant_id = (SELECT current_setting('app.current_tenant', TRUE)));

REVOKE ALL ON analytics.messages FROM anon, authenticated;
GRANT SELECT ON analytics.messages TO authenticated;
GRANT ALL ON analytics.messages TO service_role;

-- analytics.message_mentions
ALTER TABLE analytics.message_mentions ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.message_mentions FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON analytics.message_mentions;
CREATE POLICY "service_role has full access" ON analytics.message_mentions
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "tenant users read their own tenant rows" ON analytics.message_mentions;
CREATE POLICY "tenant users read their own tenant rows" ON analytics.message_mentions
AS PERMISSIVE FOR SELECT TO authenticated
USING (tenant_id = (SELECT current_setting('app.current_tenant', TRUE)));

REVOKE ALL ON analytics.message_mentions FROM anon, authenticated;
GRANT SELECT ON analytics.message_mentions TO authenticated;
GRANT ALL ON analytics.message_mentions TO service_role;

-- analytics.emojis
ALTER TABLE analytics.emojis ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.emojis FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON analytics.emojis;
CREATE POLICY "service_role has full access" ON analytics.emojis
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "tenant users read their own tenant rows" ON analytics.emojis;
CREATE POLICY "tenant users read their own tenant rows" ON analytics.emojis
AS PERMISSIVE FOR SELECT TO authenticated
USING (tenant_id = (SELECT current_setting('app.current_tenant', TRUE)));

REVOKE ALL ON analytics.emojis FROM anon, authenticated;
GRANT SELECT ON analytics.emojis TO authenticated;
GRANT ALL ON analytics.emojis TO service_role;

-- analytics.reactions
ALTER TABLE analytics.reactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.reactions FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "service_role has full access" ON analytics.reactions;
CREATE POLICY "service_role has full access" ON analytics.reactions
AS PERMISSIVE FOR ALL TO service_role
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS "tenant users read their own tenant rows" ON analytics.reactions;
CREATE POLICY "tenant users read their own tenant rows" ON analytics.reactions
AS PERMISSIVE FOR SELECT TO authenticated
USING (tenant_id = (SELECT current_setting('app.current_tenant', TRUE)));

REVOKE ALL ON analytics.reactions FROM anon, authenticated;
GRANT SELECT ON analytics.reactions TO authenticated;
GRANT ALL ON analytics.reactions TO service_role;
