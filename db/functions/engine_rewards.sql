-- The one path every reward takes: reward ledger (exactly once), tipping ledger (the money),
-- member stats and the daily rollup, then achievements/goals and milestones, in one transaction.

CREATE OR REPLACE FUNCTION resonance.apply_reward(
    p_server_id text,
    p_user_id text,
    p_event_type text,
    p_source_id text,
    p_amount numeric,
    p_occurred_at timestamptz DEFAULT NULL,
    p_rule_id uuid DEFAULT NULL,
    p_details jsonb DEFAULT '{}'::jsonb
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_occurred_at, now());
    v_brand_id text;
    v_amount numeric(20, 8) := round(coalesce(p_amount, 0), 0);
    v_reward_id bigint;
    v_transaction_id uuid;
BEGIN
    SELECT s.brand_id INTO v_brand_id FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
    IF v_brand_id IS NULL THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    IF v_amount < 0 THEN
        RAISE EXCEPTION 'reward amount must not be negative, got %', p_amount USING ERRCODE = 'RS003';
    END IF;

    INSERT INTO resonance.reward_ledger (
        server_id, brand_id, discord_user_id, event_type, source_id, rule_id, base_amount, amount, occurred_at, details
    )
    VALUES (p_server_id, v_brand_id, p_user_id, p_event_type, p_source_id, p_rule_id, coalesce(p_amount, 0), v_amount, v_at, p_details)
    ON CONFLICT ON CONSTRAINT unique_reward_idempotency DO NOTHING
    RETURNING id INTO v_reward_id;

    IF v_reward_id IS NULL THEN
        RETURN jsonb_build_object('status', 'duplicate', 'amount', 0);
    END IF;

    IF v_amount > 0 THEN
        v_transaction_id := tipping.credit_reward(
            p_user_id, v_amount, v_brand_id, p_server_id, format('reward:%s', v_reward_id), p_event_type
        );
        UPDATE resonance.reward_ledger SET transaction_id = v_transaction_id WHERE server_id = p_server_id AND id = v_reward_id;
    END IF;

    INSERT INTO public.discord_user_stats AS st (server_id, discord_user_id, rsnc_earned, first_seen_at, last_active_at)
    VALUES (p_server_id, p_user_id, v_amount::bigint, v_at, v_at)
    ON CONFLICT (server_id, discord_user_id) DO UPDATE
    SET rsnc_earned = st.rsnc_earned + excluded.rsnc_earned,
        first_seen_at = least(st.first_seen_at, excluded.first_seen_at),
        last_active_at = greatest(st.last_active_at, excluded.last_active_at);

    INSERT INTO resonance.daily_activity AS da (
        server_id, activity_date, discord_user_id, rewards_count, rsnc_earned, first_event_at, last_event_at
    )
    VALUES (p_server_id, (v_at AT TIME ZONE 'UTC')::date, p_user_id, 1, v_amount, v_at, v_at)
    ON CONFLICT (server_id, activity_date, discord_user_id) DO UPDATE
    SET rewards_count = da.rewards_count + 1,
        rsnc_earned = da.rsnc_earned + excluded.rsnc_earned,
        first_event_at = least(da.first_event_at, excluded.first_event_at),
        last_event_at = greatest(da.last_event_at, excluded.last_event_at);

    PERFORM resonance.evaluate_progress(p_server_id, p_user_id, v_at);
    PERFORM resonance.evaluate_milestones(p_server_id, p_user_id, v_at);

    RETURN jsonb_build_object(
        'status', 'rewarded', 'amount', v_amount, 'reward_id', v_reward_id, 'transaction_id', v_transaction_id
    );
END;
$$;

COMMENT ON FUNCTION resonance.apply_reward(text, text, text, text, numeric, timestamptz, uuid, jsonb) IS
'Pays one reward exactly once. Idempotency key (server, event type, source id): a replay returns {"status":"duplicate"} and pays nothing. Rewards are whole RSNC (rounded half up) so stats.rsnc_earned (bigint) and the ledger agree. Credits the tipping ledger (type reward, issued by the server''s brand), adds to discord_user_stats.rsnc_earned and the daily rollup, then re-evaluates achievements, goals and milestones. Raises RS001 (unknown server), RS003 (negative amount).';

REVOKE ALL ON FUNCTION resonance.apply_reward(text, text, text, text, numeric, timestamptz, uuid, jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.apply_reward(text, text, text, text, numeric, timestamptz, uuid, jsonb) TO service_role;
