-- Onboarding: link and unlink a guild, single-use link codes from the Partner Portal, /setup
-- without a code (a self-hosted brand per guild), the channels the bot posts to, and the checklist.
-- Every change names its actor: the configuration tables' audit trigger reads resonance.set_actor,
-- and link codes (no server yet) write their audit row themselves.

CREATE OR REPLACE FUNCTION resonance.check_discord_id(p_name text, p_value text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM resonance.require_text(p_name, p_value);
    IF p_value !~ '^[0-9]{1,20}$' AND p_value !~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' THEN
        RAISE EXCEPTION '% must be a Discord id (digits) or a simple identifier of at most 64 characters, got %', p_name, p_value
            USING ERRCODE = 'RS705';
    END IF;
END;
$$;

COMMENT ON FUNCTION resonance.check_discord_id(text, text) IS
'Internal: raises RS301 when p_value is NULL or blank, RS705 when it is neither a Discord snowflake (digits) nor an identifier of letters, digits and _.:- (at most 64 characters, e.g. a brand id).';

REVOKE ALL ON FUNCTION resonance.check_discord_id(text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.check_discord_id(text, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.admin_act(p_actor_id text)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    PERFORM resonance.check_discord_id('p_actor_id', p_actor_id);
    PERFORM resonance.set_actor('admin', p_actor_id);
END;
$$;

COMMENT ON FUNCTION resonance.admin_act(text) IS
'Internal: validates the acting admin''s Discord id (RS301 missing, RS705 malformed) and names it as the transaction''s actor (type admin), so the audit trigger records who changed what.';

REVOKE ALL ON FUNCTION resonance.admin_act(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.admin_act(text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.link_server(
    p_server_id text,
    p_brand_id text,
    p_server_name text,
    p_actor_id text
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_row public.discord_server_configs;
BEGIN
    PERFORM resonance.check_discord_id('p_server_id', p_server_id);
    PERFORM resonance.check_discord_id('p_brand_id', p_brand_id);
    IF length(p_server_name) > 100 THEN
        RAISE EXCEPTION 'server name is longer than 100 characters' USING ERRCODE = 'RS705';
    END IF;
    PERFORM resonance.admin_act(p_actor_id);

    SELECT s.* INTO v_row FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id FOR UPDATE;
    IF v_row.server_id IS NULL THEN
        INSERT INTO public.discord_server_configs AS s (server_id, brand_id, server_name)
        VALUES (p_server_id, p_brand_id, nullif(btrim(p_server_name), ''))
        ON CONFLICT (server_id) DO NOTHING
        RETURNING s.* INTO v_row;
        IF v_row.server_id IS NULL THEN
            -- A concurrent /setup linked it first: decide against its row.
            RETURN resonance.link_server(p_server_id, p_brand_id, p_server_name, p_actor_id);
        END IF;
        RETURN jsonb_build_object('status', 'linked', 'server_id', p_server_id, 'brand_id', p_brand_id);
    END IF;

    IF v_row.brand_id <> p_brand_id AND v_row.is_active THEN
        RAISE EXCEPTION 'server % is linked to another brand; unlink it first (/setup unlink) to link it to %', p_server_id, p_brand_id
            USING ERRCODE = 'RS704';
    END IF;
    IF v_row.is_active THEN
        IF nullif(btrim(p_server_name), '') IS DISTINCT FROM v_row.server_name AND nullif(btrim(p_server_name), '') IS NOT NULL THEN
            UPDATE public.discord_server_configs AS s SET server_name = btrim(p_server_name) WHERE s.server_id = p_server_id;
        END IF;
        RETURN jsonb_build_object('status', 'already_linked', 'server_id', p_server_id, 'brand_id', p_brand_id);
    END IF;

    UPDATE public.discord_server_configs AS s
    SET brand_id = p_brand_id,
        is_active = TRUE,
        server_name = coalesce(nullif(btrim(p_server_name), ''), s.server_name)
    WHERE s.server_id = p_server_id;
    RETURN jsonb_build_object(
        'status', 'relinked', 'server_id', p_server_id, 'brand_id', p_brand_id,
        'previous_brand_id', v_row.brand_id
    );
END;
$$;

COMMENT ON FUNCTION resonance.link_server(text, text, text, text) IS
'Links a Discord guild to a brand, audited with admin p_actor_id: {"status":"linked"} for a new server, "already_linked" when it is linked to that brand already (a new name is stored), "relinked" when it was unlinked (soft, resonance.unlink_server) and is linked again, to the same or another brand (its history is kept; previous_brand_id says which). Raises RS301 (missing id), RS705 (malformed server, brand or actor id, or a name over 100 characters), RS704 (the server is linked to another brand: unlink it first).';

REVOKE ALL ON FUNCTION resonance.link_server(text, text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.link_server(text, text, text, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.unlink_server(p_server_id text, p_actor_id text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_brand_id text;
BEGIN
    PERFORM resonance.check_discord_id('p_server_id', p_server_id);
    PERFORM resonance.admin_act(p_actor_id);
    v_brand_id := resonance.server_brand(p_server_id);
    UPDATE public.discord_server_configs AS s SET is_active = FALSE WHERE s.server_id = p_server_id AND s.is_active;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'already_unlinked', 'server_id', p_server_id, 'brand_id', v_brand_id);
    END IF;
    RETURN jsonb_build_object('status', 'unlinked', 'server_id', p_server_id, 'brand_id', v_brand_id);
END;
$$;

COMMENT ON FUNCTION resonance.unlink_server(text, text) IS
'Soft unlink, audited with admin p_actor_id: the server stays in discord_server_configs with is_active FALSE, so its events answer inactive and all of its history (stats, rewards, claims, snapshots, audit) is kept; link_server links it again (relinked). {"status":"unlinked"|"already_unlinked","brand_id"}. Raises RS001 (unknown server), RS301/RS705 (missing or malformed id).';

REVOKE ALL ON FUNCTION resonance.unlink_server(text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.unlink_server(text, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.self_hosted_brand(p_server_id text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT 'discord:' || p_server_id
$$;

COMMENT ON FUNCTION resonance.self_hosted_brand(text) IS
'The brand id /setup without a code gives a guild that no Partner Portal brand funds: ''discord:<guild id>'' (one self-hosted brand per guild).';

REVOKE ALL ON FUNCTION resonance.self_hosted_brand(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.self_hosted_brand(text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.create_link_code(p_brand_id text, p_actor_id text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_alphabet constant text := 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
    v_code text;
    v_bytes bytea;
    v_row resonance.link_codes;
BEGIN
    PERFORM resonance.check_discord_id('p_brand_id', p_brand_id);
    IF p_brand_id LIKE 'discord:%' THEN
        RAISE EXCEPTION 'brand % is a self-hosted guild brand, not a Partner Portal brand', p_brand_id USING ERRCODE = 'RS705';
    END IF;
    PERFORM resonance.check_discord_id('p_actor_id', p_actor_id);
    IF (
        SELECT count(*) FROM resonance.link_codes AS c
        WHERE c.brand_id = p_brand_id AND c.redeemed_at IS NULL AND c.expires_at > now()
    ) >= 20 THEN
        RAISE EXCEPTION 'brand % already has 20 unused link codes; wait for them to expire', p_brand_id USING ERRCODE = 'RS706';
    END IF;

    LOOP
        v_bytes := extensions.gen_random_bytes(8);
        SELECT string_agg(substr(v_alphabet, get_byte(v_bytes, i) % 32 + 1, 1), '' ORDER BY i)
        INTO v_code
        FROM generate_series(0, 7) AS i;
        INSERT INTO resonance.link_codes (code, brand_id, created_by, expires_at)
        VALUES (v_code, p_brand_id, p_actor_id, now() + interval '10 minutes')
        ON CONFLICT (code) DO NOTHING
        RETURNING * INTO v_row;
        EXIT WHEN v_row.code IS NOT NULL;
    END LOOP;

    INSERT INTO public.discord_audit_log (server_id, brand_id, actor_type, actor_id, action, details)
    VALUES (
        'brand:' || p_brand_id, p_brand_id, 'user', p_actor_id, 'link_code.create',
        jsonb_build_object('expires_at', v_row.expires_at)
    );
    RETURN jsonb_build_object('status', 'created', 'code', v_row.code, 'brand_id', p_brand_id, 'expires_at', v_row.expires_at);
END;
$$;

COMMENT ON FUNCTION resonance.create_link_code(text, text) IS
'A Partner Portal user (p_actor_id) asks for a code that links a guild to brand p_brand_id: {"status":"created","code","expires_at"}; eight characters (A-Z, 2-9), single use, valid 10 minutes; redeemed by /setup code:<code> (resonance.redeem_link_code). Audited under server_id brand:<brand> (action link_code.create, actor type user; the code itself is not logged). Raises RS301/RS705 (missing or malformed brand or actor id, or a self-hosted discord:* brand), RS706 (20 unused codes of the brand are still valid).';

REVOKE ALL ON FUNCTION resonance.create_link_code(text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.create_link_code(text, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.redeem_link_code(
    p_code text,
    p_server_id text,
    p_server_name text,
    p_actor_id text
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_code text := upper(replace(btrim(coalesce(p_code, '')), '-', ''));
    v_row resonance.link_codes;
    v_result jsonb;
BEGIN
    PERFORM resonance.require_text('p_code', p_code);
    SELECT c.* INTO v_row FROM resonance.link_codes AS c WHERE c.code = v_code FOR UPDATE;
    IF v_row.code IS NULL THEN
        RAISE EXCEPTION 'unknown link code; ask the brand for a new one in the Partner Portal' USING ERRCODE = 'RS701';
    ELSIF v_row.redeemed_at IS NOT NULL THEN
        RAISE EXCEPTION 'this link code was already used; ask the brand for a new one' USING ERRCODE = 'RS703';
    ELSIF v_row.expires_at <= now() THEN
        RAISE EXCEPTION 'this link code expired at %; ask the brand for a new one', v_row.expires_at USING ERRCODE = 'RS702';
    END IF;

    v_result := resonance.link_server(p_server_id, v_row.brand_id, p_server_name, p_actor_id);
    UPDATE resonance.link_codes AS c
    SET redeemed_at = now(), redeemed_server_id = p_server_id, redeemed_by = p_actor_id
    WHERE c.code = v_code;
    INSERT INTO public.discord_audit_log (server_id, brand_id, actor_type, actor_id, action, details)
    VALUES (
        p_server_id, v_row.brand_id, 'admin', p_actor_id, 'link_code.redeem',
        jsonb_build_object('created_by', v_row.created_by, 'status', v_result ->> 'status')
    );
    RETURN v_result;
END;
$$;

COMMENT ON FUNCTION resonance.redeem_link_code(text, text, text, text) IS
'/setup code:<code>: links guild p_server_id to the code''s brand (resonance.link_server, same statuses: linked, already_linked, relinked) and uses the code up, in one transaction; audited (action link_code.redeem, actor admin). Case and dashes in the code are ignored. Raises RS301 (no code), RS701 (unknown code), RS702 (expired), RS703 (already used), and link_server''s RS704 (the guild is linked to another brand; the code stays unused) and RS705.';

REVOKE ALL ON FUNCTION resonance.redeem_link_code(text, text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.redeem_link_code(text, text, text, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.setup_server(
    p_server_id text,
    p_server_name text,
    p_actor_id text,
    p_code text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_brand_id text;
    v_result jsonb;
BEGIN
    IF nullif(btrim(p_code), '') IS NOT NULL THEN
        v_result := resonance.redeem_link_code(p_code, p_server_id, p_server_name, p_actor_id);
    ELSE
        -- Already linked (to any brand): keep that brand. Otherwise the guild's own brand.
        SELECT s.brand_id INTO v_brand_id FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
        v_result := resonance.link_server(
            p_server_id, coalesce(v_brand_id, resonance.self_hosted_brand(p_server_id)), p_server_name, p_actor_id
        );
    END IF;
    RETURN v_result || jsonb_build_object('checklist', resonance.setup_checklist(p_server_id));
END;
$$;

COMMENT ON FUNCTION resonance.setup_server(text, text, text, text) IS
'/setup: with p_code, redeem_link_code; without, links the guild to its self-hosted brand discord:<guild id> (resonance.self_hosted_brand), or keeps (relinks) the brand it had. Returns link_server''s answer plus "checklist" (resonance.setup_checklist). Raises what redeem_link_code and link_server raise.';

REVOKE ALL ON FUNCTION resonance.setup_server(text, text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.setup_server(text, text, text, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.channel_kinds()
RETURNS text []
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT ARRAY['drops', 'reports', 'alerts', 'announcements']::text []
$$;

COMMENT ON FUNCTION resonance.channel_kinds() IS
'The channels a server can name in config_metadata.channels: drops (where /drop posts by default), reports (scheduled reports), alerts (KPI alerts), announcements (goals, achievements, milestones).';

REVOKE ALL ON FUNCTION resonance.channel_kinds() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.channel_kinds() TO service_role;


CREATE OR REPLACE FUNCTION resonance.set_server_channel(
    p_server_id text,
    p_actor_id text,
    p_kind text,
    p_channel_id text
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_channels jsonb;
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    IF p_kind IS NULL OR NOT p_kind = ANY(resonance.channel_kinds()) THEN
        RAISE EXCEPTION 'unknown channel kind % (one of %)', p_kind, resonance.channel_kinds() USING ERRCODE = 'RS741';
    END IF;
    IF p_channel_id IS NOT NULL AND p_channel_id !~ '^[0-9]{1,20}$' THEN
        RAISE EXCEPTION 'a channel is a Discord id (digits), got %', p_channel_id USING ERRCODE = 'RS741';
    END IF;
    PERFORM resonance.admin_act(p_actor_id);

    UPDATE public.discord_server_configs AS s
    SET config_metadata = jsonb_set(
        coalesce(s.config_metadata, '{}'::jsonb), '{channels}',
        CASE
            WHEN p_channel_id IS NULL THEN coalesce(s.config_metadata -> 'channels', '{}'::jsonb) - p_kind
            ELSE coalesce(s.config_metadata -> 'channels', '{}'::jsonb) || jsonb_build_object(p_kind, p_channel_id)
        END
    )
    WHERE s.server_id = p_server_id
    RETURNING s.config_metadata -> 'channels' INTO v_channels;
    RETURN jsonb_build_object('status', CASE WHEN p_channel_id IS NULL THEN 'cleared' ELSE 'set' END, 'channels', v_channels);
END;
$$;

COMMENT ON FUNCTION resonance.set_server_channel(text, text, text, text) IS
'Names (or, with NULL, forgets) the channel of one kind (resonance.channel_kinds: drops, reports, alerts, announcements) in config_metadata.channels, audited with admin p_actor_id. {"status":"set"|"cleared","channels"}. Raises RS001, RS741 (unknown kind, or a channel that is not a Discord id), RS301/RS705 (actor).';

REVOKE ALL ON FUNCTION resonance.set_server_channel(text, text, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.set_server_channel(text, text, text, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.setup_checklist(p_server_id text)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_server public.discord_server_configs;
    v_rules integer;
    v_roles integer;
    v_schedule public.discord_report_schedules;
BEGIN
    SELECT s.* INTO v_server FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
    IF v_server.server_id IS NULL THEN
        RETURN jsonb_build_object('linked', FALSE, 'items', '[]'::jsonb, 'fix', '/setup start');
    END IF;
    SELECT count(*) INTO v_rules
    FROM public.monitoring_rules AS r
    WHERE r.is_enabled AND (r.server_id = p_server_id OR (r.server_id IS NULL AND r.brand_id = v_server.brand_id));
    SELECT count(*) INTO v_roles FROM public.discord_role_configs AS rc WHERE rc.server_id = p_server_id AND rc.is_active;
    SELECT rs.* INTO v_schedule FROM public.discord_report_schedules AS rs WHERE rs.server_id = p_server_id AND rs.is_active;

    RETURN jsonb_build_object(
        'linked', v_server.is_active,
        'brand_id', v_server.brand_id,
        'self_hosted', v_server.brand_id = resonance.self_hosted_brand(p_server_id),
        'items', jsonb_build_array(
            jsonb_build_object(
                'key', 'rules', 'done', v_rules > 0, 'detail', format('%s enabled reward rule(s)', v_rules),
                'fix', '/config events set'
            ),
            jsonb_build_object(
                'key', 'roles', 'done', v_roles > 0, 'detail', format('%s configured role(s)', v_roles),
                'fix', '/roles effect'
            ),
            jsonb_build_object(
                'key', 'drops_channel', 'done', coalesce(v_server.config_metadata -> 'channels' ? 'drops', FALSE),
                'detail', v_server.config_metadata -> 'channels' ->> 'drops',
                'fix', '/setup channel kind:drops'
            ),
            jsonb_build_object(
                'key', 'report_channel', 'done', v_schedule.server_id IS NOT NULL,
                'detail', CASE WHEN v_schedule.server_id IS NOT NULL THEN format('%s to %s', v_schedule.frequency, v_schedule.channel_id) END,
                'fix', '/reports schedule'
            )
        )
    );
END;
$$;

COMMENT ON FUNCTION resonance.setup_checklist(text) IS
'What /setup and /setup status show: {"linked","brand_id","self_hosted","items":[{"key","done","detail","fix"}]} for rules (enabled server or brand-wide rules), roles (active role configs), drops_channel (config_metadata.channels.drops) and report_channel (an active report schedule); "fix" is the slash command that configures the item. An unknown server answers {"linked":false,"items":[],"fix":"/setup start"}.';

REVOKE ALL ON FUNCTION resonance.setup_checklist(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.setup_checklist(text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.set_anti_farming(
    p_server_id text,
    p_actor_id text,
    p_similarity numeric DEFAULT 0.9,
    p_min_words integer DEFAULT 0,
    p_window_minutes integer DEFAULT 30,
    p_enabled boolean DEFAULT TRUE
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_settings jsonb;
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    IF p_similarity IS NULL OR p_similarity <= 0 OR p_similarity > 1 THEN
        RAISE EXCEPTION 'similarity must be above 0 and at most 1, got %', p_similarity USING ERRCODE = 'RS742';
    ELSIF p_min_words IS NULL OR p_min_words NOT BETWEEN 0 AND 100 THEN
        RAISE EXCEPTION 'min_words must be 0 .. 100, got %', p_min_words USING ERRCODE = 'RS742';
    ELSIF p_window_minutes IS NULL OR p_window_minutes NOT BETWEEN 1 AND 10080 THEN
        RAISE EXCEPTION 'window_minutes must be 1 .. 10080 (a week), got %', p_window_minutes USING ERRCODE = 'RS742';
    END IF;
    PERFORM resonance.admin_act(p_actor_id);
    v_settings := jsonb_build_object(
        'similarity', p_similarity, 'min_words', p_min_words, 'window_minutes', p_window_minutes,
        'enabled', coalesce(p_enabled, TRUE)
    );
    UPDATE public.discord_server_configs AS s
    SET config_metadata = coalesce(s.config_metadata, '{}'::jsonb) || jsonb_build_object('anti_farming', v_settings)
    WHERE s.server_id = p_server_id;
    RETURN jsonb_build_object('status', 'set', 'anti_farming', v_settings);
END;
$$;

COMMENT ON FUNCTION resonance.set_anti_farming(text, text, numeric, integer, integer, boolean) IS
'Sets a server''s anti-farming thresholds (config_metadata.anti_farming, read by record_message), audited with admin p_actor_id: similarity (pg_trgm, above 0 and at most 1) to one of the member''s recent messages in the last window_minutes (1..10080) marks a message farmed, as do fewer than min_words (0..100) words; enabled FALSE switches the check off. {"status":"set","anti_farming"}. Raises RS001, RS742 (out of range), RS301/RS705 (actor).';

REVOKE ALL ON FUNCTION resonance.set_anti_farming(text, text, numeric, integer, integer, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.set_anti_farming(text, text, numeric, integer, integer, boolean) TO service_role;
