-- The ledger's entry point for issuance: how rewards reach a member's balance.
-- (The tipping issue extends the ledger around it: mint, tip, spend, reconcile.)

CREATE OR REPLACE FUNCTION tipping.credit_reward(
    p_user_id text,
    p_amount numeric,
    p_brand_id text,
    p_server_id text,
    p_idempotency_key text,
    p_reason text DEFAULT 'reward'
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_transaction_id uuid;
BEGIN
    IF p_amount IS NULL OR p_amount <= 0 THEN
        RAISE EXCEPTION 'reward amount must be positive, got %', p_amount USING ERRCODE = 'RT003';
    END IF;
    IF p_amount <> round(p_amount, 8) THEN
        RAISE EXCEPTION 'amount % has more than 8 decimals', p_amount USING ERRCODE = 'RT004';
    END IF;

    INSERT INTO tipping.users (user_id) VALUES (p_user_id) ON CONFLICT (user_id) DO NOTHING;

    -- A replayed key returns the first transaction and moves nothing.
    INSERT INTO tipping.transactions (transaction_type, recipient_id, amount, currency, brand_id, server_id, reason, idempotency_key)
    VALUES ('reward', p_user_id, p_amount, 'RSNC', p_brand_id, p_server_id, p_reason, p_idempotency_key)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id INTO v_transaction_id;

    IF v_transaction_id IS NULL THEN
        SELECT t.id INTO v_transaction_id FROM tipping.transactions AS t WHERE t.idempotency_key = p_idempotency_key;
        RETURN v_transaction_id;
    END IF;

    -- Issuance is an append plus the member's own balance row: no brand-wide hot row.
    INSERT INTO tipping.balances AS b (user_id, currency, amount)
    VALUES (p_user_id, 'RSNC', p_amount)
    ON CONFLICT (user_id, currency) DO UPDATE SET amount = b.amount + excluded.amount;

    RETURN v_transaction_id;
END;
$$;

COMMENT ON FUNCTION tipping.credit_reward(text, numeric, text, text, text, text) IS
'Mints RSNC to a member as a reward issued by a brand: one ledger transaction (type reward, no sender) and the member''s balance, atomically. Idempotent on p_idempotency_key. Raises RT003 (not positive), RT004 (over 8 decimals).';

REVOKE ALL ON FUNCTION tipping.credit_reward(text, numeric, text, text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.credit_reward(text, numeric, text, text, text, text) TO service_role;
