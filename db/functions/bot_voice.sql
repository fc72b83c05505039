-- Voice sessions for the bot: join opens one, leave ends it (one winner), credit deletes it; a
-- checkpoint every minute records that the bot still sees the session, so after a restart a session
-- whose member left while the bot was away ends at its last checkpoint (only observed time is paid).

CREATE OR REPLACE FUNCTION resonance.voice_session_join(
    p_server_id text,
    p_user_id text,
    p_channel_id text,
    p_role_ids text [] DEFAULT '{}',
    p_at timestamptz DEFAULT NULL
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_session_id uuid;
BEGIN
    IF NOT EXISTS (SELECT FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id) THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    INSERT INTO resonance.voice_sessions (server_id, discord_user_id, channel_id, role_ids, started_at)
    VALUES (p_server_id, p_user_id, p_channel_id, coalesce(p_role_ids, '{}'), coalesce(p_at, now()))
    ON CONFLICT (server_id, discord_user_id) WHERE ended_at IS NULL DO NOTHING
    RETURNING session_id INTO v_session_id;
    IF v_session_id IS NULL THEN
        -- Already open (a replay, a second replica, a channel move): keep the first start.
        SELECT vs.session_id INTO v_session_id
        FROM resonance.voice_sessions AS vs
        WHERE vs.server_id = p_server_id AND vs.discord_user_id = p_user_id AND vs.ended_at IS NULL;
    END IF;
    RETURN v_session_id;
END;
$$;

COMMENT ON FUNCTION resonance.voice_session_join(text, text, text, text [], timestamptz) IS
'Opens a voice session for a member (idempotent: an already open session is kept and its id returned). Raises RS001 for a server that is not linked (no session that could never be credited).';

REVOKE ALL ON FUNCTION resonance.voice_session_join(text, text, text, text [], timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.voice_session_join(text, text, text, text [], timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.voice_session_leave(
    p_server_id text,
    p_user_id text,
    p_at timestamptz DEFAULT NULL
)
RETURNS TABLE (
    session_id uuid,
    server_id text,
    user_id text,
    channel_id text,
    role_ids text [],
    started_at timestamptz,
    ended_at timestamptz
)
LANGUAGE sql
SET search_path = ''
AS $$
    UPDATE resonance.voice_sessions AS vs
    SET ended_at = greatest(vs.started_at, coalesce(p_at, now()))
    WHERE vs.server_id = p_server_id AND vs.discord_user_id = p_user_id AND vs.ended_at IS NULL
    RETURNING vs.session_id, vs.server_id, vs.discord_user_id, vs.channel_id, vs.role_ids, vs.started_at, vs.ended_at;
$$;

COMMENT ON FUNCTION resonance.voice_session_leave(text, text, timestamptz) IS
'Ends the member''s open voice session and returns it (no row when none is open, or another caller ended it first). The caller then credits it with record_voice and voice_session_credited.';

REVOKE ALL ON FUNCTION resonance.voice_session_leave(text, text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.voice_session_leave(text, text, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.voice_session_credited(p_session_id uuid)
RETURNS boolean
LANGUAGE sql
SET search_path = ''
AS $$
    WITH gone AS (
        DELETE FROM resonance.voice_sessions AS vs
        WHERE vs.session_id = p_session_id AND vs.ended_at IS NOT NULL
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM gone);
$$;

COMMENT ON FUNCTION resonance.voice_session_credited(uuid) IS
'Forgets an ended session once record_voice has credited it; FALSE when already forgotten.';

REVOKE ALL ON FUNCTION resonance.voice_session_credited(uuid) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.voice_session_credited(uuid) TO service_role;

CREATE OR REPLACE FUNCTION resonance.voice_sessions_pending(p_server_id text)
RETURNS TABLE (
    session_id uuid,
    server_id text,
    user_id text,
    channel_id text,
    role_ids text [],
    started_at timestamptz,
    ended_at timestamptz,
    checkpoint_at timestamptz
)
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT
        vs.session_id, vs.server_id, vs.discord_user_id, vs.channel_id, vs.role_ids, vs.started_at, vs.ended_at,
        vs.checkpoint_at
    FROM resonance.voice_sessions AS vs
    WHERE vs.server_id = p_server_id
    ORDER BY vs.started_at, vs.session_id;
$$;

COMMENT ON FUNCTION resonance.voice_sessions_pending(text) IS
'A server''s open and ended-but-uncredited voice sessions, with the last checkpoint of open ones: what the bot reconciles against the live voice states after a restart.';

REVOKE ALL ON FUNCTION resonance.voice_sessions_pending(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.voice_sessions_pending(text) TO service_role;

CREATE OR REPLACE FUNCTION resonance.voice_checkpoint(p_server_ids text [], p_at timestamptz DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE resonance.voice_sessions AS vs
    SET checkpoint_at = greatest(vs.started_at, coalesce(p_at, now()))
    WHERE vs.server_id = ANY(p_server_ids) AND vs.ended_at IS NULL;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    -- Housekeeping on the same beat: interaction claims are only needed while a retry can come.
    DELETE FROM resonance.bot_interactions AS bi WHERE bi.created_at < coalesce(p_at, now()) - interval '1 day';
    RETURN v_count;
END;
$$;

COMMENT ON FUNCTION resonance.voice_checkpoint(text [], timestamptz) IS
'The bot, every minute, for the servers it serves: every open voice session was observed until p_at (checkpoint_at). Returns how many sessions it checkpointed. Also prunes interaction claims older than a day.';

REVOKE ALL ON FUNCTION resonance.voice_checkpoint(text [], timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.voice_checkpoint(text [], timestamptz) TO service_role;
