-- Support tickets: open -> in_progress -> resolved -> closed (closed is final), with a priority.
-- The enumerations are the table's CHECK constraints; the functions name a bad value with its own
-- SQLSTATE before the constraint would.

CREATE OR REPLACE FUNCTION tipping.check_ticket_enums(p_status text, p_priority text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    IF p_status IS NOT NULL AND p_status NOT IN ('open', 'in_progress', 'resolved', 'closed') THEN
        RAISE EXCEPTION 'unknown ticket status % (open, in_progress, resolved, closed)', p_status USING ERRCODE = 'RT031';
    END IF;
    IF p_priority IS NOT NULL AND p_priority NOT IN ('low', 'medium', 'high', 'urgent') THEN
        RAISE EXCEPTION 'unknown ticket priority % (low, medium, high, urgent)', p_priority USING ERRCODE = 'RT032';
    END IF;
END;
$$;

COMMENT ON FUNCTION tipping.check_ticket_enums(text, text) IS
'Internal: raises RT031 for a status outside open/in_progress/resolved/closed and RT032 for a priority outside low/medium/high/urgent (NULL passes).';

REVOKE ALL ON FUNCTION tipping.check_ticket_enums(text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.check_ticket_enums(text, text) TO service_role;

CREATE OR REPLACE FUNCTION tipping.open_ticket(
    p_discord_id text,
    p_subject text,
    p_description text DEFAULT NULL,
    p_priority text DEFAULT 'medium',
    p_discord_username text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_ticket tipping.tickets%ROWTYPE;
BEGIN
    IF p_discord_id IS NULL OR btrim(p_discord_id) = '' THEN
        RAISE EXCEPTION 'a ticket needs a member' USING ERRCODE = 'RT006';
    END IF;
    IF p_subject IS NULL OR btrim(p_subject) = '' THEN
        RAISE EXCEPTION 'a ticket needs a subject' USING ERRCODE = 'RT033';
    END IF;
    PERFORM tipping.check_ticket_enums(NULL, coalesce(p_priority, 'medium'));

    INSERT INTO tipping.tickets (discord_id, discord_username, subject, description, priority)
    VALUES (p_discord_id, p_discord_username, btrim(p_subject), p_description, coalesce(p_priority, 'medium'))
    RETURNING * INTO v_ticket;
    RETURN jsonb_build_object('status', 'opened', 'ticket', to_jsonb(v_ticket));
END;
$$;

COMMENT ON FUNCTION tipping.open_ticket(text, text, text, text, text) IS
'Opens a support ticket (status open). Returns {status: opened, ticket}. Raises RT006 (no member), RT033 (no subject), RT032 (unknown priority).';

REVOKE ALL ON FUNCTION tipping.open_ticket(text, text, text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.open_ticket(text, text, text, text, text) TO service_role;

CREATE OR REPLACE FUNCTION tipping.list_tickets(
    p_discord_id text DEFAULT NULL,
    p_status text DEFAULT NULL,
    p_limit integer DEFAULT 50
)
RETURNS SETOF tipping.tickets
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM tipping.check_ticket_enums(p_status, NULL);
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'limit must be between 1 and 1000, got %', coalesce(p_limit::text, 'NULL') USING ERRCODE = 'RT008';
    END IF;
    RETURN QUERY
    SELECT t.*
    FROM tipping.tickets AS t
    WHERE (p_discord_id IS NULL OR t.discord_id = p_discord_id)
        AND (p_status IS NULL OR t.status = p_status)
    ORDER BY t.created_at DESC, t.id DESC
    LIMIT p_limit;
END;
$$;

COMMENT ON FUNCTION tipping.list_tickets(text, text, integer) IS
'Tickets, newest first, optionally of one member and/or one status. Raises RT031 (unknown status), RT008 (limit outside 1..1000).';

REVOKE ALL ON FUNCTION tipping.list_tickets(text, text, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.list_tickets(text, text, integer) TO service_role;

DROP FUNCTION IF EXISTS tipping.update_ticket(bigint, text, text);

CREATE OR REPLACE FUNCTION tipping.update_ticket(
    p_ticket_id bigint,
    p_status text DEFAULT NULL,
    p_priority text DEFAULT NULL,
    p_staff_id text DEFAULT NULL,
    p_server_id text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_before tipping.tickets%ROWTYPE;
    v_ticket tipping.tickets%ROWTYPE;
BEGIN
    IF p_staff_id IS NULL OR btrim(p_staff_id) = '' THEN
        RAISE EXCEPTION 'a ticket change names the staff member who makes it' USING ERRCODE = 'RT035';
    END IF;
    PERFORM tipping.check_ticket_enums(p_status, p_priority);
    SELECT t.* INTO v_before FROM tipping.tickets AS t WHERE t.id = p_ticket_id FOR UPDATE;
    IF v_before.id IS NULL THEN
        RAISE EXCEPTION 'unknown ticket %', coalesce(p_ticket_id::text, 'NULL') USING ERRCODE = 'RT030';
    END IF;
    IF v_before.status = 'closed' THEN
        RAISE EXCEPTION 'ticket % is closed', p_ticket_id USING ERRCODE = 'RT034';
    END IF;
    IF coalesce(p_status, v_before.status) = v_before.status AND coalesce(p_priority, v_before.priority) = v_before.priority THEN
        RETURN jsonb_build_object('status', 'unchanged', 'ticket', to_jsonb(v_before));
    END IF;
    UPDATE tipping.tickets AS t
    SET status = coalesce(p_status, t.status), priority = coalesce(p_priority, t.priority), handled_by = p_staff_id
    WHERE t.id = p_ticket_id
    RETURNING t.* INTO v_ticket;
    INSERT INTO public.discord_audit_log (
        server_id, brand_id, actor_type, actor_id, action, target_user_id, details, before_state, after_state
    )
    VALUES (
        coalesce(nullif(btrim(p_server_id), ''), 'tipping'),
        (SELECT s.brand_id FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id),
        'admin', p_staff_id, 'ticket.update', v_ticket.discord_id,
        jsonb_build_object('ticket_id', v_ticket.id, 'status', v_ticket.status, 'priority', v_ticket.priority),
        to_jsonb(v_before), to_jsonb(v_ticket)
    );
    RETURN jsonb_build_object('status', 'updated', 'ticket', to_jsonb(v_ticket));
END;
$$;

COMMENT ON FUNCTION tipping.update_ticket(bigint, text, text, text, text) IS
'Staff triage: changes a ticket''s status and/or priority (NULL = keep), records the staff member p_staff_id in handled_by and writes an audit row (action ticket.update, actor admin, target the ticket''s member, before/after; server_id p_server_id, where the command ran, else ''tipping''). {status: updated|unchanged, ticket}. Raises RT035 (no staff member), RT030 (unknown ticket), RT031 (unknown status), RT032 (unknown priority), RT034 (ticket closed: closed is final).';

REVOKE ALL ON FUNCTION tipping.update_ticket(bigint, text, text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.update_ticket(bigint, text, text, text, text) TO service_role;

CREATE OR REPLACE FUNCTION tipping.close_ticket(p_ticket_id bigint)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_ticket tipping.tickets%ROWTYPE;
BEGIN
    UPDATE tipping.tickets AS t
    SET status = 'closed'
    WHERE t.id = p_ticket_id AND t.status <> 'closed'
    RETURNING t.* INTO v_ticket;
    IF v_ticket.id IS NOT NULL THEN
        RETURN jsonb_build_object('status', 'closed', 'ticket', to_jsonb(v_ticket));
    END IF;
    SELECT t.* INTO v_ticket FROM tipping.tickets AS t WHERE t.id = p_ticket_id;
    IF v_ticket.id IS NULL THEN
        RAISE EXCEPTION 'unknown ticket %', coalesce(p_ticket_id::text, 'NULL') USING ERRCODE = 'RT030';
    END IF;
    RETURN jsonb_build_object('status', 'already_closed', 'ticket', to_jsonb(v_ticket));
END;
$$;

COMMENT ON FUNCTION tipping.close_ticket(bigint) IS
'Closes a ticket: {status: closed|already_closed, ticket}. Raises RT030 (unknown ticket).';

REVOKE ALL ON FUNCTION tipping.close_ticket(bigint) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.close_ticket(bigint) TO service_role;
