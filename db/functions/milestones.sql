-- Milestones: crossing a threshold records the role assignment and pays its one-time bonus once.
-- (Filled in by the drops-and-milestones issue.)

CREATE OR REPLACE FUNCTION resonance.evaluate_milestones(p_server_id text, p_user_id text, p_at timestamptz)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- Interface placeholder: the milestones issue replaces this body.
    PERFORM p_server_id, p_user_id, p_at;
END;
$$;

COMMENT ON FUNCTION resonance.evaluate_milestones(text, text, timestamptz) IS
'After a change to a member''s stats: assigns every milestone role whose criteria the member now meets, once, with its bonus and an outbox row.';

REVOKE ALL ON FUNCTION resonance.evaluate_milestones(text, text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.evaluate_milestones(text, text, timestamptz) TO service_role;
