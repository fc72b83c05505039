-- The tipping ledger is reached only through its functions, by service_role (BYPASSRLS). Every table:
-- RLS enabled and forced, no table privilege for anon or authenticated, and no policy for them: a
-- Partner Portal or anonymous client reads and writes nothing here, whatever SQL it sends.

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
    END LOOP;
END;
$$;
