-- Role assignments: who holds which configured role, how they got it, and the one-time bonus.
-- Every role the database gives or takes is also an outbox row (add_role/remove_role) written in the
-- same transaction, so a crash between the decision and Discord is repaired by the outbox worker.
--
-- assignment_type and how a role is assigned:
--   milestone          evaluate_milestones, when every criterion is met (assigned_by auto:milestone); bonus once
--   activity_threshold evaluate_milestones, criteria over the cumulative counters (auto:activity); never removed
--                      automatically (the counters never go down)
--   balance_threshold  evaluate_milestones, spendable balance >= threshold (auto:balance); removed again at the
--                      next evaluation (a reward, a purchase) that finds the balance below the threshold
--   purchase           resonance.purchase_role, paid from the ledger with tipping.spend (purchase)
--   manual, external   resonance.assign_role / resonance.remove_role (an admin, or the bot reporting Discord)

CREATE OR REPLACE FUNCTION resonance.role_bonus_amount(p_effect_type text, p_effect_config jsonb, p_assignment_config jsonb)
RETURNS integer
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT greatest(coalesce(
        (p_assignment_config ->> 'bonus_amount')::numeric,
        CASE WHEN p_effect_type = 'one_time_bonus' THEN (p_effect_config ->> 'amount')::numeric END,
        0
    ), 0)::integer
$$;

COMMENT ON FUNCTION resonance.role_bonus_amount(text, jsonb, jsonb) IS
'Internal: the one-time bonus a role pays: assignment_config.bonus_amount, else effect_config.amount of a one_time_bonus role, else 0.';

REVOKE ALL ON FUNCTION resonance.role_bonus_amount(text, jsonb, jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.role_bonus_amount(text, jsonb, jsonb) TO service_role;

CREATE OR REPLACE FUNCTION resonance.grant_role(
    p_server_id text,
    p_user_id text,
    p_role_id text,
    p_assigned_by text,
    p_at timestamptz,
    p_notify boolean,
    p_ltz_spent integer DEFAULT 0,
    p_reassign boolean DEFAULT TRUE
)
RETURNS public.discord_role_assignments
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_brand_id text;
    v_row public.discord_role_assignments;
BEGIN
    SELECT s.brand_id INTO v_brand_id FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
    IF v_brand_id IS NULL THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;

    IF p_reassign THEN
        -- New, or held before and removed since: (re)assigned. Held now: nothing.
        INSERT INTO public.discord_role_assignments AS a (
            server_id, brand_id, discord_user_id, discord_role_id, assigned_at, assigned_by, ltz_spent
        )
        VALUES (p_server_id, v_brand_id, p_user_id, p_role_id, p_at, p_assigned_by, coalesce(p_ltz_spent, 0))
        ON CONFLICT ON CONSTRAINT unique_user_role DO UPDATE
        SET assigned_at = excluded.assigned_at,
            assigned_by = excluded.assigned_by,
            ltz_spent = a.ltz_spent + excluded.ltz_spent,
            removed_at = NULL,
            removed_by = NULL
        WHERE a.removed_at IS NOT NULL
        RETURNING a.* INTO v_row;
    ELSE
        -- Once per member and role, ever (milestones): a removed milestone role is not handed back.
        INSERT INTO public.discord_role_assignments (
            server_id, brand_id, discord_user_id, discord_role_id, assigned_at, assigned_by, ltz_spent
        )
        VALUES (p_server_id, v_brand_id, p_user_id, p_role_id, p_at, p_assigned_by, coalesce(p_ltz_spent, 0))
        ON CONFLICT ON CONSTRAINT unique_user_role DO NOTHING
        RETURNING * INTO v_row;
    END IF;

    IF v_row.id IS NOT NULL AND p_notify THEN
        PERFORM resonance.enqueue_outbox(
            p_server_id, 'add_role',
            jsonb_build_object(
                'server_id', p_server_id, 'user_id', p_user_id, 'role_id', p_role_id,
                'assigned_by', p_assigned_by, 'assignment_id', v_row.id
            ),
            format('add_role:%s:%s', v_row.id, extract(EPOCH FROM v_row.assigned_at))
        );
    END IF;
    RETURN v_row;
END;
$$;

COMMENT ON FUNCTION resonance.grant_role(text, text, text, text, timestamptz, boolean, integer, boolean) IS
'Internal: records that a member holds a role (one row per member and role, unique_user_role). Returns the assignment when it is new or re-activated, a NULL row when the member holds it already (or, with p_reassign false, ever held it). With p_notify, queues an outbox add_role in the same transaction.';

REVOKE ALL ON FUNCTION resonance.grant_role(text, text, text, text, timestamptz, boolean, integer, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.grant_role(text, text, text, text, timestamptz, boolean, integer, boolean) TO service_role;

CREATE OR REPLACE FUNCTION resonance.revoke_role(
    p_server_id text,
    p_user_id text,
    p_role_id text,
    p_removed_by text,
    p_at timestamptz,
    p_notify boolean
)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_id uuid;
BEGIN
    UPDATE public.discord_role_assignments AS a
    SET removed_at = p_at, removed_by = p_removed_by
    WHERE a.server_id = p_server_id
        AND a.discord_user_id = p_user_id
        AND a.discord_role_id = p_role_id
        AND a.removed_at IS NULL
    RETURNING a.id INTO v_id;

    IF v_id IS NOT NULL AND p_notify THEN
        PERFORM resonance.enqueue_outbox(
            p_server_id, 'remove_role',
            jsonb_build_object(
                'server_id', p_server_id, 'user_id', p_user_id, 'role_id', p_role_id,
                'removed_by', p_removed_by, 'assignment_id', v_id
            ),
            format('remove_role:%s:%s', v_id, extract(EPOCH FROM p_at))
        );
    END IF;
    RETURN v_id IS NOT NULL;
END;
$$;

COMMENT ON FUNCTION resonance.revoke_role(text, text, text, text, timestamptz, boolean) IS
'Internal: marks a held role removed (removed_at, removed_by); with p_notify queues an outbox remove_role. TRUE when the member held it.';

REVOKE ALL ON FUNCTION resonance.revoke_role(text, text, text, text, timestamptz, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.revoke_role(text, text, text, text, timestamptz, boolean) TO service_role;

CREATE OR REPLACE FUNCTION resonance.pay_role_bonus(p_assignment_id uuid, p_amount integer, p_at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_row public.discord_role_assignments;
    v_reward jsonb;
BEGIN
    -- The guard: one_time_bonus_claimed flips once. A second payer finds it TRUE (after waiting on the row).
    UPDATE public.discord_role_assignments AS a
    SET one_time_bonus_claimed = TRUE,
        one_time_bonus_amount = p_amount,
        one_time_bonus_claimed_at = p_at
    WHERE a.id = p_assignment_id AND NOT coalesce(a.one_time_bonus_claimed, FALSE)
    RETURNING a.* INTO v_row;

    IF v_row.id IS NULL THEN
        RETURN jsonb_build_object('status', 'already_claimed');
    END IF;

    -- The reward ledger key (server, one_time_bonus, role:user) is a second, independent guard.
    v_reward := resonance.apply_reward(
        v_row.server_id, v_row.discord_user_id, 'one_time_bonus',
        format('%s:%s', v_row.discord_role_id, v_row.discord_user_id),
        p_amount, p_at, NULL,
        jsonb_build_object('role_id', v_row.discord_role_id, 'assignment_id', v_row.id)
    );
    RETURN jsonb_build_object(
        'status', 'paid', 'amount', coalesce((v_reward ->> 'amount')::numeric, 0),
        'role_id', v_row.discord_role_id, 'transaction_id', v_reward -> 'transaction_id'
    );
END;
$$;

COMMENT ON FUNCTION resonance.pay_role_bonus(uuid, integer, timestamptz) IS
'Internal: pays a role''s one-time bonus on an assignment exactly once (one_time_bonus_claimed, amount, claimed_at, then apply_reward with event type one_time_bonus and source id "<role_id>:<user_id>"). {"status":"paid"} or {"status":"already_claimed"}.';

REVOKE ALL ON FUNCTION resonance.pay_role_bonus(uuid, integer, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.pay_role_bonus(uuid, integer, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.assign_role(
    p_server_id text,
    p_user_id text,
    p_role_id text,
    p_assigned_by text DEFAULT 'manual',
    p_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_row public.discord_role_assignments;
BEGIN
    IF p_assigned_by IS NULL OR p_assigned_by NOT IN ('manual', 'external') THEN
        RAISE EXCEPTION 'assign_role records manual or external assignments, got %', p_assigned_by USING ERRCODE = 'RS408';
    END IF;
    IF p_user_id IS NULL OR p_user_id = '' OR p_role_id IS NULL OR p_role_id = '' THEN
        RAISE EXCEPTION 'a member id and a role id are required' USING ERRCODE = 'RS404';
    END IF;
    -- manual: the database decides, Discord is told (outbox). external: Discord already has it.
    v_row := resonance.grant_role(
        p_server_id, p_user_id, p_role_id, p_assigned_by, coalesce(p_at, now()), p_assigned_by = 'manual'
    );
    IF v_row.id IS NULL THEN
        RETURN jsonb_build_object('status', 'already_assigned', 'role_id', p_role_id);
    END IF;
    RETURN jsonb_build_object('status', 'assigned', 'role_id', p_role_id, 'assignment_id', v_row.id);
END;
$$;

COMMENT ON FUNCTION resonance.assign_role(text, text, text, text, timestamptz) IS
'Records a manual assignment (an admin gives the role: an outbox add_role is queued) or an external one (the bot saw the role appear in Discord: recorded only, so auto_drip and one-time bonuses know the holder). {"status":"assigned"|"already_assigned"}. Raises RS001 (unknown server), RS404 (no member or role id), RS408 (assigned_by not manual/external).';

REVOKE ALL ON FUNCTION resonance.assign_role(text, text, text, text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.assign_role(text, text, text, text, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.remove_role(
    p_server_id text,
    p_user_id text,
    p_role_id text,
    p_removed_by text DEFAULT 'manual',
    p_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF p_removed_by IS NULL OR p_removed_by NOT IN ('manual', 'external') THEN
        RAISE EXCEPTION 'remove_role records manual or external removals, got %', p_removed_by USING ERRCODE = 'RS408';
    END IF;
    IF resonance.revoke_role(p_server_id, p_user_id, p_role_id, p_removed_by, coalesce(p_at, now()), p_removed_by = 'manual') THEN
        RETURN jsonb_build_object('status', 'removed', 'role_id', p_role_id);
    END IF;
    RETURN jsonb_build_object('status', 'not_assigned', 'role_id', p_role_id);
END;
$$;

COMMENT ON FUNCTION resonance.remove_role(text, text, text, text, timestamptz) IS
'Marks a member''s role removed: manual (an admin takes it: an outbox remove_role is queued) or external (the bot saw it disappear in Discord: recorded only). {"status":"removed"|"not_assigned"}. The one-time bonus stays claimed. Raises RS408 (removed_by not manual/external).';

REVOKE ALL ON FUNCTION resonance.remove_role(text, text, text, text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.remove_role(text, text, text, text, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.purchase_role(
    p_server_id text,
    p_user_id text,
    p_role_id text,
    p_idempotency_key text DEFAULT NULL,
    p_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_config public.discord_role_configs;
    v_price numeric;
    v_row public.discord_role_assignments;
    v_transaction_id uuid;
BEGIN
    -- An inactive (unlinked) server sells nothing, like every other entry point.
    IF EXISTS (SELECT FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id AND NOT s.is_active) THEN
        RETURN jsonb_build_object('status', 'inactive', 'role_id', p_role_id);
    END IF;
    SELECT rc.* INTO v_config
    FROM public.discord_role_configs AS rc
    WHERE rc.server_id = p_server_id AND rc.discord_role_id = p_role_id AND rc.is_active;
    IF v_config.id IS NULL THEN
        RAISE EXCEPTION 'role % is not configured on server %', p_role_id, p_server_id USING ERRCODE = 'RS406';
    END IF;
    v_price := (v_config.assignment_config ->> 'price')::numeric;
    IF v_config.assignment_type <> 'purchase' OR v_price IS NULL OR v_price <= 0 OR v_price <> round(v_price, 0) THEN
        RAISE EXCEPTION 'role % is not for sale', p_role_id USING ERRCODE = 'RS407';
    END IF;

    -- Assignment first: a double click waits on the member's own key and then finds the role owned.
    v_row := resonance.grant_role(p_server_id, p_user_id, p_role_id, 'purchase', v_at, TRUE, v_price::integer);
    IF v_row.id IS NULL THEN
        RETURN jsonb_build_object('status', 'already_owned', 'role_id', p_role_id);
    END IF;

    -- The guarded debit. Too little balance raises (RT001) and rolls the assignment and outbox row back.
    v_transaction_id := tipping.spend(
        p_user_id, v_price, 'RSNC', v_config.brand_id, p_server_id, format('role purchase %s', p_role_id),
        coalesce(p_idempotency_key, format('role_purchase:%s:%s', v_row.id, extract(EPOCH FROM v_row.assigned_at)))
    );

    -- A purchase lowers the balance: balance_threshold roles may no longer hold.
    PERFORM resonance.evaluate_milestones(p_server_id, p_user_id, v_at);

    RETURN jsonb_build_object(
        'status', 'purchased', 'role_id', p_role_id, 'price', v_price,
        'assignment_id', v_row.id, 'transaction_id', v_transaction_id
    );
END;
$$;

COMMENT ON FUNCTION resonance.purchase_role(text, text, text, text, timestamptz) IS
'A member buys a purchase role (assignment_config.price, whole RSNC) from their spendable balance: the assignment (assigned_by purchase, ltz_spent = price), an outbox add_role and tipping.spend(user, price, ''RSNC'', brand, server, reason, key) in one transaction. {"status":"purchased", price, transaction_id} or {"status":"already_owned"}. Raises RS406 (role not configured/inactive), RS407 (not for sale), and the ledger''s RT001 (insufficient funds: nothing changes).';

REVOKE ALL ON FUNCTION resonance.purchase_role(text, text, text, text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.purchase_role(text, text, text, text, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.claim_one_time_bonus(
    p_server_id text,
    p_user_id text,
    p_role_id text,
    p_role_ids text [] DEFAULT '{}'::text [],
    p_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_config public.discord_role_configs;
    v_amount integer;
    v_assignment_id uuid;
    v_row public.discord_role_assignments;
BEGIN
    IF NOT EXISTS (SELECT FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id) THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    IF EXISTS (SELECT FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id AND NOT s.is_active) THEN
        RETURN jsonb_build_object('status', 'inactive', 'role_id', p_role_id);
    END IF;

    SELECT rc.* INTO v_config
    FROM public.discord_role_configs AS rc
    WHERE rc.server_id = p_server_id AND rc.discord_role_id = p_role_id AND rc.is_active;
    v_amount := resonance.role_bonus_amount(v_config.effect_type, v_config.effect_config, v_config.assignment_config);

    -- Eligible: a configured bonus, and the member holds the role in Discord right now.
    IF v_config.id IS NULL OR v_amount <= 0 OR NOT (p_role_id = ANY(coalesce(p_role_ids, '{}'::text []))) THEN
        RETURN jsonb_build_object('status', 'not_eligible', 'role_id', p_role_id);
    END IF;

    -- Record the holding (external: Discord already shows it), then the guarded payment.
    v_row := resonance.grant_role(p_server_id, p_user_id, p_role_id, 'external', v_at, FALSE);
    SELECT a.id INTO v_assignment_id
    FROM public.discord_role_assignments AS a
    WHERE a.server_id = p_server_id AND a.discord_user_id = p_user_id AND a.discord_role_id = p_role_id;

    RETURN resonance.pay_role_bonus(v_assignment_id, v_amount, v_at) || jsonb_build_object('role_id', p_role_id);
END;
$$;

COMMENT ON FUNCTION resonance.claim_one_time_bonus(text, text, text, text [], timestamptz) IS
'Pays a role''s one-time bonus (effect one_time_bonus {"amount":N}, or assignment_config.bonus_amount) once to a member who holds the role in Discord (p_role_id in p_role_ids). Statuses: paid (amount), already_claimed (paid before, by this or by a milestone crossing), not_eligible (role not configured/inactive, no bonus, or not held), inactive (the server is unlinked). The payment is apply_reward(event type one_time_bonus, source "<role_id>:<user_id>"). Raises RS001 (unknown server).';

REVOKE ALL ON FUNCTION resonance.claim_one_time_bonus(text, text, text, text [], timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.claim_one_time_bonus(text, text, text, text [], timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.run_auto_drip_server(p_server_id text, p_at timestamptz, p_since timestamptz DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_since timestamptz := least(coalesce(p_since, p_at, now()), coalesce(p_at, now()));
    v_due record;
    v_paid integer := 0;
    v_result jsonb;
BEGIN
    FOR v_due IN
        -- This server's rows only, before any value is cast: another server's bad row never reaches the casts.
        WITH configs AS MATERIALIZED (
            SELECT rc.discord_role_id, rc.effect_config
            FROM public.discord_role_configs AS rc
            WHERE rc.server_id = p_server_id AND rc.is_active AND rc.effect_type = 'auto_drip'
        ),

        drips AS (
            SELECT
                c.discord_role_id,
                round((c.effect_config ->> 'amount')::numeric, 0) AS amount,
                CASE WHEN c.effect_config ->> 'period' IN ('week', 'month') THEN c.effect_config ->> 'period' ELSE 'day' END AS period
            FROM configs AS c
        ),

        -- Every period from the one holding p_since (the first one a failed run missed) to the current one.
        periods AS (
            SELECT d.discord_role_id, d.amount, d.period, ps.period_start
            FROM drips AS d
            CROSS JOIN LATERAL generate_series(
                date_trunc(d.period, v_since AT TIME ZONE 'UTC'),
                date_trunc(d.period, v_at AT TIME ZONE 'UTC'),
                ('1 ' || d.period)::interval
            ) AS ps (period_start)
            WHERE d.amount > 0
        )

        SELECT
            a.discord_user_id,
            p.amount,
            format('%s:%s:%s', p.discord_role_id, a.discord_user_id, to_char(p.period_start, 'YYYY-MM-DD')) AS source_id,
            p.discord_role_id,
            a.id AS assignment_id
        FROM periods AS p
        INNER JOIN public.discord_role_assignments AS a
            ON a.server_id = p_server_id AND a.discord_role_id = p.discord_role_id AND a.removed_at IS NULL
        WHERE a.assigned_at <= least(v_at, (p.period_start + ('1 ' || p.period)::interval) AT TIME ZONE 'UTC')
            AND NOT EXISTS (
                SELECT FROM resonance.reward_ledger AS l
                WHERE l.server_id = p_server_id
                    AND l.event_type = 'auto_drip'
                    AND l.source_id = format('%s:%s:%s', p.discord_role_id, a.discord_user_id, to_char(p.period_start, 'YYYY-MM-DD'))
            )
        ORDER BY a.discord_user_id, p.discord_role_id, p.period_start
    LOOP
        -- Still held? A removal recorded since the list was read (resonance.remove_role) stops the
        -- drip at once: the holding is re-read, and a removal in flight is waited for.
        PERFORM FROM public.discord_role_assignments AS a
        WHERE a.id = v_due.assignment_id AND a.removed_at IS NULL
        FOR SHARE;
        CONTINUE WHEN NOT FOUND;
        v_result := resonance.apply_reward(
            p_server_id, v_due.discord_user_id, 'auto_drip', v_due.source_id, v_due.amount, v_at, NULL,
            jsonb_build_object('role_id', v_due.discord_role_id)
        );
        IF v_result ->> 'status' = 'rewarded' THEN
            v_paid := v_paid + 1;
        END IF;
    END LOOP;
    RETURN v_paid;
END;
$$;

COMMENT ON FUNCTION resonance.run_auto_drip_server(text, timestamptz, timestamptz) IS
'One server''s auto drips (see resonance.run_auto_drip): pays every current holder of an active auto_drip role its amount once per period, for every period from the one holding p_since (default p_at: the current period only) to the one holding p_at, a member only for periods that ended after they got the role. Idempotent per member, role and period (event type auto_drip, source "<role_id>:<user_id>:<period start date>"). Returns the number of payments made.';

REVOKE ALL ON FUNCTION resonance.run_auto_drip_server(text, timestamptz, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.run_auto_drip_server(text, timestamptz, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.run_auto_drip(p_at timestamptz DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_server_id text;
    v_paid integer := 0;
BEGIN
    -- Job isolation (db/functions/job_isolation.sql): one subtransaction per server.
    FOR v_server_id IN
        SELECT DISTINCT rc.server_id
        FROM public.discord_role_configs AS rc
        INNER JOIN public.discord_server_configs AS s ON s.server_id = rc.server_id AND s.is_active
        WHERE rc.is_active AND rc.effect_type = 'auto_drip'
        ORDER BY rc.server_id
    LOOP
        BEGIN
            v_paid := v_paid + resonance.run_auto_drip_server(
                v_server_id, v_at, resonance.job_missed_from('auto_drip', v_server_id)
            );
            PERFORM resonance.job_succeeded('auto_drip', v_server_id);
        EXCEPTION WHEN OTHERS THEN
            PERFORM resonance.job_failed('auto_drip', v_server_id, v_at, SQLSTATE, SQLERRM);
        END;
    END LOOP;
    RETURN v_paid;
END;
$$;

COMMENT ON FUNCTION resonance.run_auto_drip(timestamptz) IS
'Job: pays every current holder of an active auto_drip role (effect_config {"amount":N,"period":"day"|"week"|"month"}, UTC periods) its amount once per period, through apply_reward (event type auto_drip, source "<role_id>:<user_id>:<period start date>"), so a second run in the same period pays nothing. Holders are the member''s active rows in discord_role_assignments (record external roles with resonance.assign_role), re-read under a share lock right before each payment, so a removal recorded with resonance.remove_role stops further drips at once; inactive servers are skipped; drips are rewards, not actions. Server by server (resonance.run_auto_drip_server), each in its own subtransaction: a server whose drips fail (a bad config, a failing reward) is logged in public.discord_job_errors and skipped, and its missed periods are paid by the first run that succeeds for it. Returns the number of payments made.';

REVOKE ALL ON FUNCTION resonance.run_auto_drip(timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.run_auto_drip(timestamptz) TO service_role;


CREATE OR REPLACE FUNCTION resonance.evaluate_balance_roles(p_user_ids text [], p_at timestamptz DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_pair record;
    v_count integer := 0;
BEGIN
    -- After a balance changed outside a reward (tip, mint, purchase): re-evaluate the balance_threshold
    -- roles of every active server that has them and knows the member. One index probe when none.
    FOR v_pair IN
        SELECT DISTINCT rc.server_id, st.discord_user_id
        FROM public.discord_role_configs AS rc
        INNER JOIN public.discord_user_stats AS st
            ON st.server_id = rc.server_id AND st.discord_user_id = ANY(p_user_ids)
        INNER JOIN public.discord_server_configs AS s ON s.server_id = rc.server_id AND s.is_active
        WHERE rc.is_active AND rc.assignment_type = 'balance_threshold'
        ORDER BY rc.server_id, st.discord_user_id
    LOOP
        PERFORM resonance.evaluate_milestones(v_pair.server_id, v_pair.discord_user_id, coalesce(p_at, now()));
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END;
$$;

COMMENT ON FUNCTION resonance.evaluate_balance_roles(text [], timestamptz) IS
'Re-evaluates balance_threshold roles (resonance.evaluate_milestones) for these members in every active server that has such roles and knows them; called by tipping.post_transaction after every tip, mint, spend (purchase) and credit, so a balance role follows the balance whichever way it moved. Returns the number of (server, member) pairs evaluated.';

REVOKE ALL ON FUNCTION resonance.evaluate_balance_roles(text [], timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.evaluate_balance_roles(text [], timestamptz) TO service_role;
