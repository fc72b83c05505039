-- The ledger's entry point for issuance: how rewards reach a member's balance.
-- Shares its internals with tipping.mint (tipping.post_transaction in tipping_ledger.sql).

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
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'a reward needs a member' USING ERRCODE = 'RT006';
    END IF;
    -- Issuance is an append plus the member's own balance row: no brand-wide hot row.
    SELECT p.transaction_id INTO v_transaction_id
    FROM tipping.post_transaction('reward', NULL, p_user_id, p_amount, 'RSNC', p_brand_id, p_server_id, p_reason, p_idempotency_key) AS p;
    RETURN v_transaction_id;
END;
$$;

COMMENT ON FUNCTION tipping.credit_reward(text, numeric, text, text, text, text) IS
'Mints RSNC to a member as a reward issued by a brand: one ledger transaction (type reward, no sender) and the member''s balance, atomically. Idempotent on p_idempotency_key (a replay returns the first transaction id and moves nothing). Raises RT003 (not positive), RT004 (over 8 decimals), RT005 (RSNC inactive), RT006 (no member), RT007 (key reused for another movement).';

REVOKE ALL ON FUNCTION tipping.credit_reward(text, numeric, text, text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.credit_reward(text, numeric, text, text, text, text) TO service_role;
