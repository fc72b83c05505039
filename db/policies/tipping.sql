-- The tipping ledger is reached only through its functions, by service_role and the roles that are
-- members of it (the bot's login role: membership does not carry BYPASSRLS, so it needs policies).
-- Every table: RLS enabled and forced, no table privilege for anon or authenticated, and policies
-- for service_role only: a Partner Portal or anonymous client reads and writes nothing here.

DO $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY[
        'currencies', 'users', 'balances', 'transactions', 'tips', 'trust_badges',
        'wallet_registrations', 'registration_nonces', 'verifications', 'tickets'
    ] LOOP
        EXECUTE format('ALTER TABLE tipping.%I ENABLE ROW LEVEL SECURITY', v_table);
        EXECUTE format('ALTER TABLE tipping.%I FORCE ROW LEVEL SECURITY', v_table);
        EXECUTE format('REVOKE ALL ON tipping.%I FROM public, anon, authenticated', v_table);
        EXECUTE format('DROP POLICY IF EXISTS "Service role reads the ledger" ON tipping.%I', v_table);
        EXECUTE format('CREATE POLICY "Service role reads the ledger" ON tipping.%I FOR SELECT TO service_role USING (TRUE)', v_table);
        EXECUTE format('DROP POLICY IF EXISTS "Service role inserts into the ledger" ON tipping.%I', v_table);
        EXECUTE format(
            'CREATE POLICY "Service role inserts into the ledger" ON tipping.%I FOR INSERT TO service_role WITH CHECK (TRUE)', v_table
        );
        EXECUTE format('DROP POLICY IF EXISTS "Service role updates the ledger" ON tipping.%I', v_table);
        EXECUTE format(
            'CREATE POLICY "Service role updates the ledger" ON tipping.%I FOR UPDATE TO service_role USING (TRUE) WITH CHECK (TRUE)', v_table
        );
        EXECUTE format('DROP POLICY IF EXISTS "Service role deletes from the ledger" ON tipping.%I', v_table);
        EXECUTE format('CREATE POLICY "Service role deletes from the ledger" ON tipping.%I FOR DELETE TO service_role USING (TRUE)', v_table);
    END LOOP;
END;
$$;
