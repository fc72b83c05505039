-- Achievements and community goals follow the member's counters. (Filled in by the engine issue.)

CREATE OR REPLACE FUNCTION resonance.evaluate_progress(p_server_id text, p_user_id text, p_at timestamptz)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- Interface placeholder: the engagement engine replaces this body.
    PERFORM p_server_id, p_user_id, p_at;
END;
$$;

COMMENT ON FUNCTION resonance.evaluate_progress(text, text, timestamptz) IS
'Moves a member''s achievement progress and the server''s community goals after a change to their counters.';

REVOKE ALL ON FUNCTION resonance.evaluate_progress(text, text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.evaluate_progress(text, text, timestamptz) TO service_role;
