-- What the bot needs at the Discord edge: which guilds are linked (and their voice policy), member
-- roles as Discord shows them, one answer per interaction, drops that never end half made, drop
-- messages ended through the outbox, and outbox leases handed back on a clean shutdown.

CREATE OR REPLACE FUNCTION resonance.bot_servers(p_server_ids text [])
RETURNS TABLE (
    server_id text,
    is_active boolean,
    voice_count_alone boolean,
    voice_count_deafened boolean
)
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT
        s.server_id,
        s.is_active,
        coalesce((s.config_metadata -> 'voice' ->> 'count_alone')::boolean, FALSE),
        coalesce((s.config_metadata -> 'voice' ->> 'count_deafened')::boolean, FALSE)
    FROM public.discord_server_configs AS s
    WHERE s.server_id = ANY(p_server_ids);
$$;

COMMENT ON FUNCTION resonance.bot_servers(text []) IS
'The linked servers among the guilds the bot is in, with their voice policy (discord_server_configs.config_metadata.voice: count_alone, count_deafened, both default false: time alone in a channel or deafened earns nothing). A guild missing from the answer is not linked: the bot ignores its events and answers its commands with how to set up.';

REVOKE ALL ON FUNCTION resonance.bot_servers(text []) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.bot_servers(text []) TO service_role;

CREATE OR REPLACE FUNCTION resonance.sync_member_roles(
    p_server_id text,
    p_user_id text,
    p_role_ids text [],
    p_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_roles text [] := coalesce(p_role_ids, '{}'::text []);
    v_role record;
    v_added text [] := '{}';
    v_removed text [] := '{}';
    v_bonuses jsonb := '[]';
    v_bonus jsonb;
BEGIN
    IF NOT EXISTS (SELECT FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id) THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    IF p_user_id IS NULL OR p_user_id = '' THEN
        RAISE EXCEPTION 'a member id is required' USING ERRCODE = 'RS404';
    END IF;

    -- Only roles with an active config matter; in role id order, so two syncs lock rows alike.
    FOR v_role IN
        SELECT
            rc.discord_role_id AS role_id,
            rc.discord_role_id = ANY(v_roles) AS held_in_discord,
            EXISTS (
                SELECT FROM public.discord_role_assignments AS a
                WHERE a.server_id = p_server_id AND a.discord_user_id = p_user_id
                    AND a.discord_role_id = rc.discord_role_id AND a.removed_at IS NULL
            ) AS recorded
        FROM public.discord_role_configs AS rc
        WHERE rc.server_id = p_server_id AND rc.is_active
        ORDER BY rc.discord_role_id
    LOOP
        IF v_role.held_in_discord AND NOT v_role.recorded THEN
            PERFORM resonance.assign_role(p_server_id, p_user_id, v_role.role_id, 'external', v_at);
            v_added := v_added || v_role.role_id;
        ELSIF v_role.recorded AND NOT v_role.held_in_discord THEN
            PERFORM resonance.remove_role(p_server_id, p_user_id, v_role.role_id, 'external', v_at);
            v_removed := v_removed || v_role.role_id;
        END IF;
        IF v_role.held_in_discord THEN
            -- Pays once ever per member and role (already_claimed after); not_eligible without a bonus.
            v_bonus := resonance.claim_one_time_bonus(p_server_id, p_user_id, v_role.role_id, v_roles, v_at);
            IF v_bonus ->> 'status' = 'paid' THEN
                v_bonuses := v_bonuses || jsonb_build_array(v_bonus);
            END IF;
        END IF;
    END LOOP;

    RETURN jsonb_build_object(
        'status', 'synced', 'added', to_jsonb(v_added), 'removed', to_jsonb(v_removed), 'bonuses', v_bonuses
    );
END;
$$;

COMMENT ON FUNCTION resonance.sync_member_roles(text, text, text [], timestamptz) IS
'Makes the recorded role holdings of a member follow Discord: p_role_ids is every role the member holds now. For each role with an active config: held but not recorded -> assign_role external (auto_drip, thresholds and effects see it); recorded but no longer held -> remove_role external; held -> its one-time bonus is claimed (paid once ever). Used on every GUILD_MEMBER_UPDATE and for every member at startup. {"status":"synced","added":[...],"removed":[...],"bonuses":[...]}. Raises RS001 (server not linked), RS404 (no member id).';

REVOKE ALL ON FUNCTION resonance.sync_member_roles(text, text, text [], timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.sync_member_roles(text, text, text [], timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.reconcile_server_roles(
    p_server_id text,
    p_members jsonb,
    p_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_member record;
    v_result jsonb;
    v_added integer := 0;
    v_removed integer := 0;
    v_members integer := 0;
BEGIN
    IF NOT EXISTS (SELECT FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id) THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    -- Members who hold a configured role in Discord, and members recorded as holding one (a member who
    -- left the guild holds nothing): everyone else has nothing to reconcile.
    FOR v_member IN
        WITH discord_roles AS (
            SELECT m.key AS user_id, array(SELECT jsonb_array_elements_text(m.value)) AS role_ids
            FROM jsonb_each(coalesce(p_members, '{}'::jsonb)) AS m
        ),

        configured AS (
            SELECT rc.discord_role_id FROM public.discord_role_configs AS rc
            WHERE rc.server_id = p_server_id AND rc.is_active
        )

        SELECT d.user_id, d.role_ids
        FROM discord_roles AS d
        WHERE d.role_ids && array(SELECT c.discord_role_id FROM configured AS c)
        UNION
        SELECT a.discord_user_id, coalesce(d.role_ids, '{}'::text [])
        FROM public.discord_role_assignments AS a
        LEFT JOIN discord_roles AS d ON d.user_id = a.discord_user_id
        WHERE a.server_id = p_server_id AND a.removed_at IS NULL
            AND a.discord_role_id IN (SELECT c.discord_role_id FROM configured AS c)
        ORDER BY 1
    LOOP
        v_result := resonance.sync_member_roles(p_server_id, v_member.user_id, v_member.role_ids, p_at);
        v_members := v_members + 1;
        v_added := v_added + jsonb_array_length(v_result -> 'added');
        v_removed := v_removed + jsonb_array_length(v_result -> 'removed');
    END LOOP;
    RETURN jsonb_build_object('status', 'reconciled', 'members', v_members, 'added', v_added, 'removed', v_removed);
END;
$$;

COMMENT ON FUNCTION resonance.reconcile_server_roles(text, jsonb, timestamptz) IS
'At startup: p_members maps every member of the guild to the role ids Discord shows ({"<user id>": ["<role id>", ...]}); each member holding a configured role, or recorded as holding one, is synced (resonance.sync_member_roles). A recorded member missing from the map left the guild and holds nothing. {"status":"reconciled","members","added","removed"}. Raises RS001 (server not linked).';

REVOKE ALL ON FUNCTION resonance.reconcile_server_roles(text, jsonb, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.reconcile_server_roles(text, jsonb, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.claim_interaction(p_interaction_id text, p_server_id text, p_command text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_result jsonb;
BEGIN
    IF p_interaction_id IS NULL OR p_interaction_id = '' OR p_command IS NULL THEN
        RAISE EXCEPTION 'an interaction id and a command are required' USING ERRCODE = 'RS404';
    END IF;
    INSERT INTO resonance.bot_interactions (interaction_id, server_id, command)
    VALUES (p_interaction_id, p_server_id, p_command)
    ON CONFLICT (interaction_id) DO NOTHING;
    IF FOUND THEN
        RETURN jsonb_build_object('status', 'claimed');
    END IF;
    SELECT bi.result INTO v_result FROM resonance.bot_interactions AS bi WHERE bi.interaction_id = p_interaction_id;
    RETURN jsonb_build_object('status', 'duplicate', 'result', v_result);
END;
$$;

COMMENT ON FUNCTION resonance.claim_interaction(text, text, text) IS
'Claims a Discord interaction for the transaction that acts on it: {"status":"claimed"} the first time, {"status":"duplicate","result":...} after (the stored answer of the first). Call it, act and resonance.finish_interaction in ONE transaction, so a retry after a lost commit acknowledgement never acts twice. Raises RS404 (no interaction id or command).';

REVOKE ALL ON FUNCTION resonance.claim_interaction(text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.claim_interaction(text, text, text) TO service_role;

CREATE OR REPLACE FUNCTION resonance.finish_interaction(p_interaction_id text, p_result jsonb)
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    UPDATE resonance.bot_interactions AS bi SET result = p_result WHERE bi.interaction_id = p_interaction_id;
$$;

COMMENT ON FUNCTION resonance.finish_interaction(text, jsonb) IS
'Stores the answer of a claimed interaction (see resonance.claim_interaction), in the acting transaction.';

REVOKE ALL ON FUNCTION resonance.finish_interaction(text, jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.finish_interaction(text, jsonb) TO service_role;

CREATE OR REPLACE FUNCTION resonance.cancel_drop(p_drop_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_drop_id uuid;
BEGIN
    DELETE FROM public.discord_drops AS d
    WHERE d.drop_id = p_drop_id AND d.claims_count = 0
    RETURNING d.drop_id INTO v_drop_id;
    IF v_drop_id IS NULL THEN
        RETURN jsonb_build_object('status', 'kept', 'drop_id', p_drop_id);
    END IF;
    RETURN jsonb_build_object('status', 'cancelled', 'drop_id', v_drop_id);
END;
$$;

COMMENT ON FUNCTION resonance.cancel_drop(uuid) IS
'Compensation for /drop create: the drop was created but its message could not be posted (or attached), so nobody can see it: delete it while nobody claimed it. {"status":"cancelled"} or {"status":"kept"} (unknown drop, or claims exist).';

REVOKE ALL ON FUNCTION resonance.cancel_drop(uuid) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.cancel_drop(uuid) TO service_role;

CREATE OR REPLACE FUNCTION resonance.queue_drop_sold_out()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF NEW.channel_id IS NOT NULL AND NEW.message_id IS NOT NULL THEN
        PERFORM resonance.enqueue_outbox(
            NEW.server_id, 'send_message',
            jsonb_build_object(
                'type', 'drop_sold_out', 'drop_id', NEW.drop_id, 'channel_id', NEW.channel_id,
                'message_id', NEW.message_id, 'claims_count', NEW.claims_count, 'max_claims', NEW.max_claims
            ),
            format('drop_sold_out:%s', NEW.drop_id)
        );
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION resonance.queue_drop_sold_out() IS
'Trigger: the claim that sells a drop out queues, in its own transaction, the outbox row that edits the drop message to "sold out" with its button disabled (kind send_message, payload type drop_sold_out, dedup key drop_sold_out:<drop id>; editing a drop message is idempotent, so the expiry job''s later drop_closed edit only repeats the final state).';

REVOKE ALL ON FUNCTION resonance.queue_drop_sold_out() FROM public, anon, authenticated;

CREATE OR REPLACE TRIGGER discord_drops_sold_out
AFTER UPDATE OF claims_count ON public.discord_drops
FOR EACH ROW
WHEN (new.max_claims IS NOT NULL AND new.claims_count >= new.max_claims AND old.claims_count < new.max_claims)
EXECUTE FUNCTION resonance.queue_drop_sold_out();

CREATE OR REPLACE FUNCTION resonance.release_outbox(p_worker text)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE resonance.outbox AS o
    SET status = 'pending', available_at = now(), taken_by = NULL, attempts = greatest(o.attempts - 1, 0)
    WHERE o.status = 'taken' AND o.taken_by = p_worker;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;

COMMENT ON FUNCTION resonance.release_outbox(text) IS
'A worker shutting down cleanly hands back the rows it holds: pending again at once (not after the lease), and the take does not count as an attempt. Returns how many rows it released.';

REVOKE ALL ON FUNCTION resonance.release_outbox(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.release_outbox(text) TO service_role;
