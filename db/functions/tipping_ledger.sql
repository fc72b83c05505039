-- The tipping ledger: every movement is one row of tipping.transactions and the matching change of
-- at most two balance rows, in one statement sequence that either fully happens or not at all.
--
-- Concurrency (READ COMMITTED):
--   * the idempotency key is claimed first (INSERT ... ON CONFLICT DO NOTHING on its UNIQUE index):
--     a second call with the same key waits for the first, then returns the first result;
--   * a transfer locks both balance rows in one statement ordered by user_id (fixed order: opposite
--     tips A->B and B->A queue instead of deadlocking), then debits with a guarded
--     UPDATE ... WHERE amount >= x, so a balance can never go negative;
--   * issuance (mint, reward) touches one balance row with an upsert: no brand-wide hot row.
-- See docs/ledger.md for the invariants and the error codes.

-- Validation shared by every movement: currency known and active, amount positive and not more
-- precise than the currency allows. Returns the currency's decimals.
CREATE OR REPLACE FUNCTION tipping.check_amount(p_amount numeric, p_currency text)
RETURNS integer
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_decimals integer;
BEGIN
    SELECT c.decimals INTO v_decimals
    FROM tipping.currencies AS c
    WHERE c.code = p_currency AND c.is_active;
    IF v_decimals IS NULL THEN
        RAISE EXCEPTION 'unknown or inactive currency %', coalesce(p_currency, 'NULL') USING ERRCODE = 'RT005';
    END IF;
    IF p_amount IS NULL OR p_amount <= 0 THEN
        RAISE EXCEPTION 'amount must be positive, got %', coalesce(p_amount::text, 'NULL') USING ERRCODE = 'RT003';
    END IF;
    IF p_amount <> round(p_amount, v_decimals) THEN
        RAISE EXCEPTION 'amount % has more than % decimals (currency %)', p_amount, v_decimals, p_currency
            USING ERRCODE = 'RT004';
    END IF;
    RETURN v_decimals;
END;
$$;

COMMENT ON FUNCTION tipping.check_amount(numeric, text) IS
'Internal: validates a movement. Raises RT005 (unknown or inactive currency), RT003 (amount not positive), RT004 (more decimals than the currency allows, at most 8). Returns the currency''s decimals.';

REVOKE ALL ON FUNCTION tipping.check_amount(numeric, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.check_amount(numeric, text) TO service_role;

-- The one transfer implementation: mint, credit_reward, spend and tip all move money here (rewards
-- of the engine are written by resonance.close_event in one statement with their decision, the
-- same issuance shape). sender NULL = issuance (mint/reward), recipient NULL = out of circulation
-- (purchase/burn), both = transfer (tip).
CREATE OR REPLACE FUNCTION tipping.post_transaction(
    p_type text,
    p_sender_id text,
    p_recipient_id text,
    p_amount numeric,
    p_currency text,
    p_brand_id text,
    p_server_id text,
    p_reason text,
    p_idempotency_key text,
    OUT transaction_id uuid,
    OUT replayed boolean
)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_first tipping.transactions%ROWTYPE;
BEGIN
    PERFORM tipping.check_amount(p_amount, p_currency);
    IF p_sender_id IS NULL AND p_recipient_id IS NULL THEN
        RAISE EXCEPTION 'a movement needs a sender or a recipient' USING ERRCODE = 'RT006';
    END IF;
    IF p_sender_id = p_recipient_id THEN
        RAISE EXCEPTION 'member % cannot tip themselves', p_sender_id USING ERRCODE = 'RT002';
    END IF;
    IF p_sender_id IS NOT NULL AND NOT EXISTS (SELECT FROM tipping.users AS u WHERE u.user_id = p_sender_id) THEN
        RAISE EXCEPTION 'unknown member %', p_sender_id USING ERRCODE = 'RT006';
    END IF;
    IF p_sender_id IS NULL THEN
        -- Issuance (mint, reward: every paid rule of every event): one statement. The member row,
        -- the idempotency key claim (a concurrent call with the same key waits here for us) and,
        -- only when the key was new, the credit of the one balance row (an upsert: no hot row).
        WITH member AS (
            INSERT INTO tipping.users (user_id) VALUES (p_recipient_id) ON CONFLICT (user_id) DO NOTHING
        ),

        tx AS (
            INSERT INTO tipping.transactions (
                transaction_type, sender_id, recipient_id, amount, currency, brand_id, server_id, reason, idempotency_key
            )
            VALUES (p_type, NULL, p_recipient_id, p_amount, p_currency, p_brand_id, p_server_id, p_reason, p_idempotency_key)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id
        ),

        credit AS (
            INSERT INTO tipping.balances AS b (user_id, currency, amount)
            SELECT p_recipient_id, p_currency, p_amount FROM tx
            ON CONFLICT (user_id, currency) DO UPDATE SET amount = b.amount + excluded.amount
        )

        SELECT tx.id INTO transaction_id FROM tx;
        IF transaction_id IS NOT NULL THEN
            replayed := FALSE;
            PERFORM resonance.evaluate_balance_roles(ARRAY[p_recipient_id]);
            RETURN;
        END IF;
    ELSE
        IF p_recipient_id IS NOT NULL THEN
            INSERT INTO tipping.users (user_id) VALUES (p_recipient_id) ON CONFLICT (user_id) DO NOTHING;
        END IF;

        -- Claim the idempotency key first: a concurrent call with the same key waits here for us.
        INSERT INTO tipping.transactions (
            transaction_type, sender_id, recipient_id, amount, currency, brand_id, server_id, reason, idempotency_key
        )
        VALUES (p_type, p_sender_id, p_recipient_id, p_amount, p_currency, p_brand_id, p_server_id, p_reason, p_idempotency_key)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id INTO transaction_id;
    END IF;

    IF transaction_id IS NULL THEN
        SELECT t.* INTO v_first FROM tipping.transactions AS t WHERE t.idempotency_key = p_idempotency_key;
        IF v_first.transaction_type IS DISTINCT FROM p_type
            OR v_first.sender_id IS DISTINCT FROM p_sender_id
            OR v_first.recipient_id IS DISTINCT FROM p_recipient_id
            OR v_first.amount <> p_amount
            OR v_first.currency IS DISTINCT FROM p_currency THEN
            RAISE EXCEPTION 'idempotency key % was already used for a different movement', p_idempotency_key
                USING ERRCODE = 'RT007';
        END IF;
        transaction_id := v_first.id;
        replayed := TRUE;
        RETURN;
    END IF;
    replayed := FALSE;

    -- The balance rows, each locked by its own write, in user_id order (opposite transfers A->B and
    -- B->A queue instead of deadlocking); the debit is guarded, so a balance never goes negative
    -- (RT001 aborts the transaction, the credit with it).
    IF p_recipient_id IS NOT NULL AND p_recipient_id < p_sender_id THEN
        INSERT INTO tipping.balances AS b (user_id, currency, amount)
        VALUES (p_recipient_id, p_currency, p_amount)
        ON CONFLICT (user_id, currency) DO UPDATE SET amount = b.amount + excluded.amount;
    END IF;
    UPDATE tipping.balances AS b
    SET amount = b.amount - p_amount
    WHERE b.user_id = p_sender_id AND b.currency = p_currency AND b.amount >= p_amount;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insufficient funds: % has less than % %', p_sender_id, p_amount, p_currency
            USING ERRCODE = 'RT001';
    END IF;
    IF p_recipient_id IS NOT NULL AND p_recipient_id > p_sender_id THEN
        INSERT INTO tipping.balances AS b (user_id, currency, amount)
        VALUES (p_recipient_id, p_currency, p_amount)
        ON CONFLICT (user_id, currency) DO UPDATE SET amount = b.amount + excluded.amount;
    END IF;
    -- balance_threshold roles follow the balance, whichever way it moved.
    PERFORM resonance.evaluate_balance_roles(ARRAY[p_sender_id, p_recipient_id]);
END;
$$;

COMMENT ON FUNCTION tipping.post_transaction(text, text, text, numeric, text, text, text, text, text) IS
'Internal: the one transfer implementation (mint, credit_reward, spend, tip). Appends the transaction (claiming its idempotency key first) and changes the balances atomically: the two balance rows of a transfer are written in user_id order (no deadlock between opposite transfers), the debit guarded (never negative); then the members'' balance_threshold roles are re-evaluated (resonance.evaluate_balance_roles). A replayed idempotency key returns the first transaction with replayed = true and moves nothing. Raises RT001, RT002, RT003, RT004, RT005, RT006, RT007.';

REVOKE ALL ON FUNCTION tipping.post_transaction(text, text, text, numeric, text, text, text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.post_transaction(text, text, text, numeric, text, text, text, text, text) TO service_role;

CREATE OR REPLACE FUNCTION tipping.mint(
    p_user_id text,
    p_amount numeric,
    p_currency text,
    p_reason text,
    p_idempotency_key text DEFAULT NULL
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_transaction_id uuid;
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'mint needs a member' USING ERRCODE = 'RT006';
    END IF;
    SELECT p.transaction_id INTO v_transaction_id
    FROM tipping.post_transaction('mint', NULL, p_user_id, p_amount, p_currency, NULL, NULL, p_reason, p_idempotency_key) AS p;
    RETURN v_transaction_id;
END;
$$;

COMMENT ON FUNCTION tipping.mint(text, numeric, text, text, text) IS
'Issues p_amount of p_currency into a member''s balance (the member is created if new): one ledger transaction of type mint. Returns the transaction id; a replayed idempotency key returns the first id and moves nothing. Raises RT003, RT004, RT005, RT006 (no member), RT007 (key reused for another movement).';

REVOKE ALL ON FUNCTION tipping.mint(text, numeric, text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.mint(text, numeric, text, text, text) TO service_role;

CREATE OR REPLACE FUNCTION tipping.tip(
    p_sender_id text,
    p_receiver_id text,
    p_amount numeric,
    p_currency text,
    p_server_id text DEFAULT NULL,
    p_idempotency_key text DEFAULT NULL
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_move record;
    v_tip_id uuid;
BEGIN
    IF p_sender_id IS NULL OR p_receiver_id IS NULL THEN
        RAISE EXCEPTION 'a tip needs a sender and a receiver' USING ERRCODE = 'RT006';
    END IF;
    -- The transfer itself: the one implementation (checks, key claim, lock order, guarded debit).
    SELECT * INTO v_move
    FROM tipping.post_transaction('tip', p_sender_id, p_receiver_id, p_amount, p_currency, NULL, p_server_id, 'tip', p_idempotency_key);
    IF v_move.replayed THEN
        SELECT tp.id INTO v_tip_id FROM tipping.tips AS tp WHERE tp.transaction_id = v_move.transaction_id;
        RETURN v_tip_id;
    END IF;
    INSERT INTO tipping.tips (sender, receiver, amount, currency, server_id, transaction_id)
    VALUES (p_sender_id, p_receiver_id, p_amount, p_currency, p_server_id, v_move.transaction_id)
    RETURNING id INTO v_tip_id;
    RETURN v_tip_id;
END;
$$;

COMMENT ON FUNCTION tipping.tip(text, text, numeric, text, text, text) IS
'Moves p_amount of p_currency from sender to receiver (receiver created if new) through tipping.post_transaction (the one transfer: balance rows written in user_id order, no deadlock between opposite tips, guarded debit), plus the tips row. Returns the tip id; a replayed idempotency key returns the first tip id and moves nothing. Raises RT001 (insufficient funds), RT002 (tip to self), RT003, RT004, RT005, RT006 (unknown sender), RT007.';

REVOKE ALL ON FUNCTION tipping.tip(text, text, numeric, text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.tip(text, text, numeric, text, text, text) TO service_role;

CREATE OR REPLACE FUNCTION tipping.spend(
    p_user_id text,
    p_amount numeric,
    p_currency text,
    p_brand_id text,
    p_server_id text DEFAULT NULL,
    p_reason text DEFAULT 'purchase',
    p_idempotency_key text DEFAULT NULL
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_transaction_id uuid;
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'spend needs a member' USING ERRCODE = 'RT006';
    END IF;
    SELECT p.transaction_id INTO v_transaction_id
    FROM tipping.post_transaction('purchase', p_user_id, NULL, p_amount, p_currency, p_brand_id, p_server_id, p_reason, p_idempotency_key) AS p;
    RETURN v_transaction_id;
END;
$$;

COMMENT ON FUNCTION tipping.spend(text, numeric, text, text, text, text, text) IS
'A member pays the brand (role purchases): a purchase transaction (no recipient: taken out of circulation, brand_id recorded) and a guarded debit. Returns the transaction id; a replayed idempotency key returns the first id and moves nothing. Raises RT001 (insufficient funds), RT003, RT004, RT005, RT006 (unknown member), RT007.';

REVOKE ALL ON FUNCTION tipping.spend(text, numeric, text, text, text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.spend(text, numeric, text, text, text, text, text) TO service_role;

CREATE OR REPLACE FUNCTION tipping.balance(p_user_id text, p_currency text)
RETURNS numeric
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM tipping.currencies AS c WHERE c.code = p_currency) THEN
        RAISE EXCEPTION 'unknown currency %', coalesce(p_currency, 'NULL') USING ERRCODE = 'RT005';
    END IF;
    RETURN coalesce(
        (SELECT b.amount FROM tipping.balances AS b WHERE b.user_id = p_user_id AND b.currency = p_currency),
        0
    );
END;
$$;

COMMENT ON FUNCTION tipping.balance(text, text) IS
'A member''s spendable balance in a currency; 0 for an unknown member. An inactive currency is still readable. Raises RT005 for an unknown currency.';

REVOKE ALL ON FUNCTION tipping.balance(text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.balance(text, text) TO service_role;

CREATE OR REPLACE FUNCTION tipping.history(
    p_user_id text,
    p_currency text DEFAULT NULL,
    p_limit integer DEFAULT 50,
    p_before timestamptz DEFAULT NULL
)
RETURNS TABLE (
    transaction_id uuid,
    created_at timestamptz,
    transaction_type text,
    direction text,
    counterparty_id text,
    amount numeric,
    delta numeric,
    currency text,
    status text,
    brand_id text,
    server_id text,
    reason text,
    tip_id uuid
)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'limit must be between 1 and 1000, got %', coalesce(p_limit::text, 'NULL') USING ERRCODE = 'RT008';
    END IF;
    RETURN QUERY
    SELECT
        t.id,
        t.created_at,
        t.transaction_type,
        CASE WHEN t.recipient_id = p_user_id THEN 'in' ELSE 'out' END,
        CASE WHEN t.recipient_id = p_user_id THEN t.sender_id ELSE t.recipient_id END,
        t.amount,
        CASE WHEN t.recipient_id = p_user_id THEN t.amount ELSE -t.amount END,
        t.currency,
        t.status,
        t.brand_id,
        t.server_id,
        t.reason,
        tp.id
    FROM tipping.transactions AS t
    LEFT JOIN tipping.tips AS tp ON tp.transaction_id = t.id
    WHERE (t.sender_id = p_user_id OR t.recipient_id = p_user_id)
        AND (p_currency IS NULL OR t.currency = p_currency)
        AND (p_before IS NULL OR t.created_at < p_before)
    ORDER BY t.created_at DESC, t.id DESC
    LIMIT p_limit;
END;
$$;

COMMENT ON FUNCTION tipping.history(text, text, integer, timestamptz) IS
'A member''s movements, newest first: direction in/out, the counterparty (NULL for issuance and purchases), amount and signed delta, the tip id for tips. Optional currency filter and keyset page (p_before). Empty for an unknown member. Raises RT008 for a limit outside 1..1000.';

REVOKE ALL ON FUNCTION tipping.history(text, text, integer, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.history(text, text, integer, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION tipping.reconcile()
RETURNS TABLE (user_id text, currency text, balance numeric, ledger_total numeric, difference numeric)
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    WITH movements AS (
        SELECT t.recipient_id AS user_id, t.currency, t.amount
        FROM tipping.transactions AS t
        WHERE t.status = 'completed' AND t.recipient_id IS NOT NULL
        UNION ALL
        SELECT t.sender_id AS user_id, t.currency, -t.amount AS amount
        FROM tipping.transactions AS t
        WHERE t.status = 'completed' AND t.sender_id IS NOT NULL
    ),

    ledger AS (
        SELECT m.user_id, m.currency, sum(m.amount) AS total
        FROM movements AS m
        GROUP BY m.user_id, m.currency
    ),

    balances AS (
        SELECT
            coalesce(b.user_id, l.user_id) AS user_id,
            coalesce(b.currency, l.currency) AS currency,
            coalesce(b.amount, 0) AS balance,
            coalesce(l.total, 0) AS ledger_total
        FROM tipping.balances AS b
        FULL JOIN ledger AS l ON l.user_id = b.user_id AND l.currency = b.currency
        WHERE coalesce(b.amount, 0) <> coalesce(l.total, 0)
    ),

    -- Reward decisions (resonance.reward_ledger) against the money that paid them: each decision
    -- with an amount references a completed reward transaction to the same member of the same
    -- amount; a zero decision references none. A member with any decision that breaks this is
    -- listed with the sum of their decided amounts (balance) against the sum paid (ledger_total).
    decisions AS (
        SELECT
            d.discord_user_id AS user_id,
            'RSNC' AS currency,
            sum(d.amount) AS decided,
            coalesce(sum(t.amount) FILTER (WHERE t.status = 'completed'), 0) AS paid
        FROM resonance.reward_ledger AS d
        LEFT JOIN tipping.transactions AS t ON t.id = d.transaction_id
        GROUP BY d.discord_user_id
        HAVING bool_or(
            CASE
                WHEN d.amount = 0 THEN d.transaction_id IS NOT NULL
                ELSE t.id IS NULL
                    OR t.amount IS DISTINCT FROM d.amount
                    OR t.recipient_id IS DISTINCT FROM d.discord_user_id
                    OR t.transaction_type <> 'reward'
                    OR t.status <> 'completed'
                    OR t.currency <> 'RSNC'
            END
        )
    )

    SELECT b.user_id, b.currency, b.balance, b.ledger_total, b.balance - b.ledger_total FROM balances AS b
    UNION ALL
    SELECT d.user_id, d.currency, d.decided, d.paid, d.decided - d.paid FROM decisions AS d
    ORDER BY 1, 2
$$;

COMMENT ON FUNCTION tipping.reconcile() IS
'Every balance that differs from the sum of its completed ledger movements (received minus sent), with the difference; and every member whose reward decisions (resonance.reward_ledger) do not match the transactions that paid them (a decision without its completed reward transaction of the same member and amount, or a zero decision with one): balance = the member''s decided amounts, ledger_total = what their transactions paid. Empty when the ledger is healthy. One snapshot, safe under concurrent writes.';

REVOKE ALL ON FUNCTION tipping.reconcile() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.reconcile() TO service_role;
