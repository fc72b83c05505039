-- Voice sessions for the bot: join opens one, leave ends it (one winner), credit deletes it.

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
'Opens a voice session for a member (idempotent: an already open session is kept and its id returned).';

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
    ended_at timestamptz
)
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT vs.session_id, vs.server_id, vs.discord_user_id, vs.channel_id, vs.role_ids, vs.started_at, vs.ended_at
    FROM resonance.voice_sessions AS vs
    WHERE vs.server_id = p_server_id
    ORDER BY vs.started_at, vs.session_id;
$$;

COMMENT ON FUNCTION resonance.voice_sessions_pending(text) IS
'A server''s open and ended-but-uncredited voice sessions: what the bot reconciles against the live voice states after a restart.';

REVOKE ALL ON FUNCTION resonance.voice_sessions_pending(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.voice_sessions_pending(text) TO service_role;
