-- Currencies the ledger accepts: added and switched on/off by an admin (/currency), each change
-- audited (tipping is not per server: audit rows go under server_id 'tipping', or the server where the
-- command ran).

CREATE OR REPLACE FUNCTION tipping.audit_currency(
    p_actor_id text, p_server_id text, p_action text, p_before jsonb, p_after jsonb
)
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    INSERT INTO public.discord_audit_log (server_id, brand_id, actor_type, actor_id, action, details, before_state, after_state)
    VALUES (
        coalesce(nullif(btrim(p_server_id), ''), 'tipping'),
        (SELECT s.brand_id FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id),
        'admin', p_actor_id, p_action,
        jsonb_build_object('table', 'tipping.currencies', 'code', coalesce(p_after, p_before) ->> 'code'),
        p_before, p_after
    )
$$;

COMMENT ON FUNCTION tipping.audit_currency(text, text, text, jsonb, jsonb) IS
'Internal: the audit row of a currency change (actor admin p_actor_id; server_id p_server_id or ''tipping'').';

REVOKE ALL ON FUNCTION tipping.audit_currency(text, text, text, jsonb, jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.audit_currency(text, text, text, jsonb, jsonb) TO service_role;


CREATE OR REPLACE FUNCTION tipping.add_currency(
    p_code text,
    p_decimals integer,
    p_actor_id text,
    p_server_id text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_code text := upper(btrim(p_code));
    v_row tipping.currencies;
BEGIN
    IF p_actor_id IS NULL OR btrim(p_actor_id) = '' THEN
        RAISE EXCEPTION 'a currency change names the admin who makes it' USING ERRCODE = 'RT035';
    ELSIF v_code IS NULL OR v_code !~ '^[A-Z0-9]{2,12}$' THEN
        RAISE EXCEPTION 'a currency code is 2 to 12 letters or digits, got %', p_code USING ERRCODE = 'RT040';
    ELSIF p_decimals IS NULL OR p_decimals NOT BETWEEN 0 AND 8 THEN
        RAISE EXCEPTION 'decimals must be 0 .. 8 (the ledger keeps 8), got %', p_decimals USING ERRCODE = 'RT040';
    END IF;

    INSERT INTO tipping.currencies AS c (code, decimals)
    VALUES (v_code, p_decimals)
    ON CONFLICT (code) DO NOTHING
    RETURNING c.* INTO v_row;
    IF v_row.code IS NOT NULL THEN
        PERFORM tipping.audit_currency(p_actor_id, p_server_id, 'currency.add', NULL, to_jsonb(v_row));
        RETURN jsonb_build_object('status', 'added', 'code', v_code, 'decimals', p_decimals);
    END IF;

    SELECT c.* INTO v_row FROM tipping.currencies AS c WHERE c.code = v_code;
    IF v_row.decimals <> p_decimals THEN
        RAISE EXCEPTION 'currency % exists with % decimals; its precision cannot change', v_code, v_row.decimals
            USING ERRCODE = 'RT041';
    END IF;
    RETURN jsonb_build_object('status', 'exists', 'code', v_code, 'decimals', v_row.decimals, 'is_active', v_row.is_active);
END;
$$;

COMMENT ON FUNCTION tipping.add_currency(text, integer, text, text) IS
'/currency add: a new currency the ledger accepts (code 2..12 of A-Z 0-9, upper-cased; decimals 0..8, fixed for ever), audited (action currency.add, actor admin p_actor_id). {"status":"added"} or, for a code that exists with the same decimals, {"status":"exists","is_active"} (tipping.set_currency_active switches it on). Raises RT035 (no actor), RT040 (bad code or decimals), RT041 (the code exists with other decimals).';

REVOKE ALL ON FUNCTION tipping.add_currency(text, integer, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.add_currency(text, integer, text, text) TO service_role;


CREATE OR REPLACE FUNCTION tipping.set_currency_active(
    p_code text,
    p_is_active boolean,
    p_actor_id text,
    p_server_id text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_code text := upper(btrim(p_code));
    v_before tipping.currencies;
    v_after tipping.currencies;
BEGIN
    IF p_actor_id IS NULL OR btrim(p_actor_id) = '' THEN
        RAISE EXCEPTION 'a currency change names the admin who makes it' USING ERRCODE = 'RT035';
    ELSIF p_is_active IS NULL THEN
        RAISE EXCEPTION 'say whether the currency is active' USING ERRCODE = 'RT040';
    END IF;
    SELECT c.* INTO v_before FROM tipping.currencies AS c WHERE c.code = v_code FOR UPDATE;
    IF v_before.code IS NULL THEN
        RAISE EXCEPTION 'unknown currency %', p_code USING ERRCODE = 'RT005';
    ELSIF v_code = 'RSNC' AND NOT p_is_active THEN
        RAISE EXCEPTION 'RSNC pays every reward and cannot be switched off' USING ERRCODE = 'RT042';
    ELSIF v_before.is_active = p_is_active THEN
        RETURN jsonb_build_object('status', 'unchanged', 'code', v_code, 'is_active', p_is_active);
    END IF;
    UPDATE tipping.currencies AS c SET is_active = p_is_active WHERE c.code = v_code RETURNING c.* INTO v_after;
    PERFORM tipping.audit_currency(
        p_actor_id, p_server_id, CASE WHEN p_is_active THEN 'currency.enable' ELSE 'currency.disable' END,
        to_jsonb(v_before), to_jsonb(v_after)
    );
    RETURN jsonb_build_object('status', CASE WHEN p_is_active THEN 'enabled' ELSE 'disabled' END, 'code', v_code, 'is_active', p_is_active);
END;
$$;

COMMENT ON FUNCTION tipping.set_currency_active(text, boolean, text, text) IS
'/currency disable|enable: an inactive currency keeps its balances and history but no longer moves (RT005 on tips, mints, spends). Audited (currency.enable / currency.disable, actor admin). {"status":"enabled"|"disabled"|"unchanged"}. Raises RT035 (no actor), RT040 (no state), RT005 (unknown currency), RT042 (RSNC cannot be switched off).';

REVOKE ALL ON FUNCTION tipping.set_currency_active(text, boolean, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.set_currency_active(text, boolean, text, text) TO service_role;


CREATE OR REPLACE FUNCTION tipping.list_currencies()
RETURNS TABLE (code text, decimals integer, is_active boolean, holders bigint)
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT c.code, c.decimals, c.is_active,
        (SELECT count(*) FROM tipping.balances AS b WHERE b.currency = c.code AND b.amount > 0)
    FROM tipping.currencies AS c
    ORDER BY NOT c.is_active, c.code
$$;

COMMENT ON FUNCTION tipping.list_currencies() IS
'The currencies (active first): decimals and how many members hold a positive balance.';

REVOKE ALL ON FUNCTION tipping.list_currencies() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.list_currencies() TO service_role;
