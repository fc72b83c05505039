-- The dashboard's SaaS functions (docs/web.md): the caller's brand, usage and quotas, the console
-- with its monthly quota, the bot connection, the extraction queue and the Stripe webhook's writes.
-- Functions for authenticated read the brand from the verified JWT claims (request.jwt.claims),
-- never from an argument.

CREATE OR REPLACE FUNCTION saas.request_brand()
RETURNS text
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT nullif(auth.jwt() -> 'app_metadata' ->> 'brand_id', '')
$$;

COMMENT ON FUNCTION saas.request_brand() IS 'The signed-in Partner Portal user''s brand: app_metadata.brand_id of the request''s JWT claims, or NULL.';
REVOKE ALL ON FUNCTION saas.request_brand() FROM public, anon;
GRANT EXECUTE ON FUNCTION saas.request_brand() TO authenticated, service_role;


CREATE OR REPLACE FUNCTION saas._storage_bytes(p_brand_id text)
RETURNS bigint
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT (
        (SELECT coalesce(sum(pg_catalog.pg_column_size(m.*)), 0) FROM analytics.messages AS m WHERE m.tenant_id = p_brand_id)
        + (SELECT coalesce(sum(pg_catalog.pg_column_size(r.*)), 0) FROM analytics.reactions AS r WHERE r.tenant_id = p_brand_id)
        + (SELECT coalesce(sum(pg_catalog.pg_column_size(x.*)), 0) FROM analytics.message_mentions AS x WHERE x.tenant_id = p_brand_id)
        + (SELECT coalesce(sum(pg_catalog.pg_column_size(u.*)), 0) FROM analytics.users AS u WHERE u.tenant_id = p_brand_id)
        + (SELECT coalesce(sum(pg_catalog.pg_column_size(sm.*)), 0) FROM analytics.server_members AS sm WHERE sm.tenant_id = p_brand_id)
        + (SELECT coalesce(sum(pg_catalog.pg_column_size(c.*)), 0) FROM analytics.channels AS c WHERE c.tenant_id = p_brand_id)
    )::bigint
$$;

COMMENT ON FUNCTION saas._storage_bytes(text) IS 'Bytes of the brand''s warehouse rows (sum of row sizes of messages, reactions, mentions, users, members, channels): the storage quota''s measure. Invoker: under authenticated, RLS limits it to the caller''s own rows anyway.';
REVOKE ALL ON FUNCTION saas._storage_bytes(text) FROM public, anon;
GRANT EXECUTE ON FUNCTION saas._storage_bytes(text) TO authenticated, service_role;


CREATE OR REPLACE FUNCTION saas.usage(p_brand_id text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_brand text := CASE WHEN current_user = 'authenticated' THEN saas.request_brand() ELSE p_brand_id END;
    v_period date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    v_plan saas.plans;
    v_status text;
    v_used integer;
    v_storage bigint;
BEGIN
    IF v_brand IS NULL THEN
        RAISE EXCEPTION 'no brand: the JWT carries no app_metadata.brand_id' USING ERRCODE = 'RW002';
    END IF;
    SELECT p.* INTO v_plan
    FROM saas.plans AS p
    WHERE p.plan = coalesce((SELECT s.plan FROM saas.subscriptions AS s WHERE s.brand_id = v_brand AND s.status IN ('active', 'trialing', 'past_due')), 'free');
    SELECT s.status INTO v_status FROM saas.subscriptions AS s WHERE s.brand_id = v_brand;
    SELECT u.queries INTO v_used FROM saas.query_usage AS u WHERE u.brand_id = v_brand AND u.period_start = v_period;
    v_storage := saas._storage_bytes(v_brand);
    RETURN jsonb_build_object(
        'brand_id', v_brand,
        'plan', v_plan.plan,
        'status', coalesce(v_status, 'active'),
        'period_start', v_period,
        'queries_used', coalesce(v_used, 0),
        'queries_limit', v_plan.queries_per_month,
        'queries_left', CASE WHEN v_plan.queries_per_month IS NULL THEN NULL ELSE greatest(v_plan.queries_per_month - coalesce(v_used, 0), 0) END,
        'storage_bytes', v_storage,
        'storage_limit_bytes', v_plan.storage_bytes,
        'history_days', v_plan.history_days
    );
END;
$$;

COMMENT ON FUNCTION saas.usage(text) IS 'A brand''s plan and usage: {brand_id, plan, status, period_start, queries_used, queries_limit, queries_left (NULL: unlimited), storage_bytes, storage_limit_bytes, history_days (NULL: unlimited)}. For authenticated the brand is the JWT''s (the argument is ignored); service_role names it. A brand without an active subscription is on free. Raises RW002 without a brand.';
REVOKE ALL ON FUNCTION saas.usage(text) FROM public, anon;
GRANT EXECUTE ON FUNCTION saas.usage(text) TO authenticated, service_role;


CREATE OR REPLACE FUNCTION saas.console_execute(p_sql text, p_row_cap integer DEFAULT 10000)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_brand text := saas.request_brand();
    v_period date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    v_limit integer;
    v_plan text;
    v_used integer;
    v_result jsonb;
BEGIN
    IF v_brand IS NULL THEN
        RAISE EXCEPTION 'no brand: the JWT carries no app_metadata.brand_id' USING ERRCODE = 'RW002';
    END IF;
    SELECT p.plan, p.queries_per_month INTO v_plan, v_limit
    FROM saas.plans AS p
    WHERE p.plan = coalesce((SELECT s.plan FROM saas.subscriptions AS s WHERE s.brand_id = v_brand AND s.status IN ('active', 'trialing', 'past_due')), 'free');

    -- Cheap refusal before running anything; the guarded count below is the one that decides.
    SELECT u.queries INTO v_used FROM saas.query_usage AS u WHERE u.brand_id = v_brand AND u.period_start = v_period;
    IF v_limit IS NOT NULL AND coalesce(v_used, 0) >= v_limit THEN
        RAISE EXCEPTION 'console query quota reached: % of % queries used this month (plan %, month of %)', v_used, v_limit, v_plan, v_period
            USING ERRCODE = 'RW001', DETAIL = saas.usage(v_brand)::text, HINT = 'upgrade to pro or team for unlimited queries';
    END IF;

    v_result := analytics.console_query(v_brand, p_sql, p_row_cap);

    -- Counted once, in the query's own transaction: a failed query rolls its count back with it;
    -- concurrent queries of a brand at its limit serialise on this row and the loser is refused.
    INSERT INTO saas.query_usage AS u (brand_id, period_start, queries, last_query_at)
    VALUES (v_brand, v_period, 1, now())
    ON CONFLICT (brand_id, period_start) DO UPDATE
    SET queries = u.queries + 1, last_query_at = excluded.last_query_at
    WHERE v_limit IS NULL OR u.queries < v_limit
    RETURNING u.queries INTO v_used;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'console query quota reached: % of % queries used this month (plan %, month of %)', v_limit, v_limit, v_plan, v_period
            USING ERRCODE = 'RW001', DETAIL = saas.usage(v_brand)::text, HINT = 'upgrade to pro or team for unlimited queries';
    END IF;
    RETURN v_result || jsonb_build_object(
        'queries_used', v_used,
        'queries_limit', v_limit,
        'queries_left', CASE WHEN v_limit IS NULL THEN NULL ELSE v_limit - v_used END
    );
END;
$$;

COMMENT ON FUNCTION saas.console_execute(text, integer) IS 'The dashboard''s SQL console: the caller''s brand (from the JWT) is the tenant of analytics.console_query (read-only, sealed, at most 10,000 rows; the caller sets statement_timeout <= 30 s first). Each successful query counts once against the plan''s monthly quota, in the same transaction. Returns the console''s {columns, rows, row_count, truncated, tenant_id} plus queries_used, queries_limit, queries_left. Raises RW002 (no brand), RW001 (quota reached; DETAIL carries saas.usage() as JSON), and whatever the console raises.';
REVOKE ALL ON FUNCTION saas.console_execute(text, integer) FROM public, anon;
GRANT EXECUTE ON FUNCTION saas.console_execute(text, integer) TO authenticated, service_role;


CREATE OR REPLACE FUNCTION saas.connect_bot(p_guild_id bigint, p_token_ciphertext text)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_brand text := saas.request_brand();
    v_actor text := nullif(auth.jwt() ->> 'sub', '');
    v_new boolean;
BEGIN
    IF v_brand IS NULL THEN
        RAISE EXCEPTION 'no brand: the JWT carries no app_metadata.brand_id' USING ERRCODE = 'RW002';
    ELSIF p_guild_id IS NULL OR p_guild_id <= 0 OR nullif(p_token_ciphertext, '') IS NULL THEN
        RAISE EXCEPTION 'a guild id and an encrypted token are required' USING ERRCODE = 'RW008';
    END IF;
    INSERT INTO saas.bot_connections AS b (brand_id, guild_id, token_ciphertext, connected_by, connected_at)
    VALUES (v_brand, p_guild_id, p_token_ciphertext, coalesce(v_actor, 'unknown'), now())
    ON CONFLICT (brand_id) DO UPDATE
    SET guild_id = excluded.guild_id, token_ciphertext = excluded.token_ciphertext,
        connected_by = excluded.connected_by, connected_at = excluded.connected_at
    RETURNING (xmax = 0) INTO v_new;
    RETURN jsonb_build_object('status', CASE WHEN v_new THEN 'connected' ELSE 'reconnected' END, 'guild_id', p_guild_id::text);
END;
$$;

COMMENT ON FUNCTION saas.connect_bot(bigint, text) IS 'Stores the caller''s brand''s bot connection (guild id, Fernet ciphertext of the token, encrypted by the web tier), replacing an earlier one. Returns {"status": "connected"|"reconnected", "guild_id"}. Raises RW002 (no brand), RW008 (no guild or token).';
REVOKE ALL ON FUNCTION saas.connect_bot(bigint, text) FROM public, anon;
GRANT EXECUTE ON FUNCTION saas.connect_bot(bigint, text) TO authenticated, service_role;


CREATE OR REPLACE FUNCTION saas.start_extraction(p_sync_days integer DEFAULT 7)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_brand text := saas.request_brand();
    v_actor text := nullif(auth.jwt() ->> 'sub', '');
    v_usage jsonb;
    v_guild bigint;
    v_id uuid;
BEGIN
    IF v_brand IS NULL THEN
        RAISE EXCEPTION 'no brand: the JWT carries no app_metadata.brand_id' USING ERRCODE = 'RW002';
    ELSIF p_sync_days IS NULL OR p_sync_days < 1 THEN
        RAISE EXCEPTION 'sync_days must be 1 or more, got %', p_sync_days USING ERRCODE = 'RW005';
    END IF;
    SELECT b.guild_id INTO v_guild FROM saas.bot_connections AS b WHERE b.brand_id = v_brand;
    IF v_guild IS NULL THEN
        RAISE EXCEPTION 'no bot connected: connect a bot first (POST /api/bot/connect)' USING ERRCODE = 'RW006';
    END IF;
    v_usage := saas.usage(v_brand);
    IF (v_usage ->> 'history_days')::integer < p_sync_days THEN
        RAISE EXCEPTION 'plan % keeps % days of history; % days asked', v_usage ->> 'plan', v_usage ->> 'history_days', p_sync_days
            USING ERRCODE = 'RW005', DETAIL = v_usage::text;
    ELSIF (v_usage ->> 'storage_bytes')::bigint >= (v_usage ->> 'storage_limit_bytes')::bigint THEN
        RAISE EXCEPTION 'storage quota reached: % of % bytes used (plan %)', v_usage ->> 'storage_bytes', v_usage ->> 'storage_limit_bytes', v_usage ->> 'plan'
            USING ERRCODE = 'RW004', DETAIL = v_usage::text;
    END IF;
    INSERT INTO saas.extraction_jobs (brand_id, guild_id, sync_days, requested_by)
    VALUES (v_brand, v_guild, p_sync_days, coalesce(v_actor, 'unknown'))
    ON CONFLICT (brand_id, guild_id) WHERE status IN ('queued', 'running') DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        SELECT j.id INTO v_id FROM saas.extraction_jobs AS j
        WHERE j.brand_id = v_brand AND j.guild_id = v_guild AND j.status IN ('queued', 'running');
        RETURN jsonb_build_object('status', 'already_active', 'job_id', v_id);
    END IF;
    PERFORM pg_catalog.pg_notify('saas_extraction_jobs', v_id::text);
    RETURN jsonb_build_object('status', 'queued', 'job_id', v_id);
END;
$$;

COMMENT ON FUNCTION saas.start_extraction(integer) IS 'Queues an extraction of the caller''s brand''s connected guild over p_sync_days of history, within its plan (history days, storage). Returns {"status": "queued"|"already_active", "job_id"} (one active job per brand and guild). Raises RW002 (no brand), RW006 (no bot connected), RW005 (sync_days < 1 or beyond the plan''s history), RW004 (storage quota reached).';
REVOKE ALL ON FUNCTION saas.start_extraction(integer) FROM public, anon;
GRANT EXECUTE ON FUNCTION saas.start_extraction(integer) TO authenticated, service_role;


CREATE OR REPLACE FUNCTION saas.cancel_extraction(p_job_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_brand text := saas.request_brand();
    v_status text;
BEGIN
    IF v_brand IS NULL THEN
        RAISE EXCEPTION 'no brand: the JWT carries no app_metadata.brand_id' USING ERRCODE = 'RW002';
    END IF;
    UPDATE saas.extraction_jobs AS j
    SET cancel_requested = TRUE,
        status = CASE WHEN j.status = 'queued' THEN 'cancelled' ELSE j.status END,
        finished_at = CASE WHEN j.status = 'queued' THEN now() ELSE j.finished_at END
    WHERE j.id = p_job_id AND j.brand_id = v_brand AND j.status IN ('queued', 'running')
    RETURNING j.status INTO v_status;
    IF v_status IS NOT NULL THEN
        RETURN jsonb_build_object('status', CASE WHEN v_status = 'cancelled' THEN 'cancelled' ELSE 'cancel_requested' END, 'job_id', p_job_id);
    END IF;
    SELECT j.status INTO v_status FROM saas.extraction_jobs AS j WHERE j.id = p_job_id AND j.brand_id = v_brand;
    IF v_status IS NULL THEN
        RAISE EXCEPTION 'unknown extraction job %', p_job_id USING ERRCODE = 'RW007';
    END IF;
    RETURN jsonb_build_object('status', 'already_finished', 'job_id', p_job_id, 'job_status', v_status);
END;
$$;

COMMENT ON FUNCTION saas.cancel_extraction(uuid) IS 'Cancels one of the caller''s brand''s extraction jobs: a queued job is cancelled at once ("cancelled"), a running one is asked to stop ("cancel_requested": its worker stops at the next progress report, keeping the batches already committed), a finished one is left ("already_finished"). Raises RW002 (no brand), RW007 (no such job of this brand: another brand''s job is unknown).';
REVOKE ALL ON FUNCTION saas.cancel_extraction(uuid) FROM public, anon;
GRANT EXECUTE ON FUNCTION saas.cancel_extraction(uuid) TO authenticated, service_role;


CREATE OR REPLACE FUNCTION saas.claim_extraction_job(p_worker text)
RETURNS TABLE (job_id uuid, brand_id text, guild_id bigint, sync_days integer, token_ciphertext text)
LANGUAGE sql
SET search_path = ''
AS $$
    WITH next AS (
        SELECT j.id
        FROM saas.extraction_jobs AS j
        WHERE j.status = 'queued' OR (j.status = 'running' AND j.heartbeat_at < now() - interval '2 minutes')
        ORDER BY j.created_at, j.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )

    UPDATE saas.extraction_jobs AS j
    SET status = 'running', started_at = now(), heartbeat_at = now(), worker = p_worker, progress = '{"phase": "starting"}'::jsonb
    FROM next
    WHERE j.id = next.id
    RETURNING j.id, j.brand_id, j.guild_id, j.sync_days,
        (SELECT b.token_ciphertext FROM saas.bot_connections AS b WHERE b.brand_id = j.brand_id)
$$;

COMMENT ON FUNCTION saas.claim_extraction_job(text) IS 'The worker''s claim: the oldest queued job (or a running one whose worker has been silent for two minutes: it died), locked FOR UPDATE SKIP LOCKED and marked running in one statement (two workers never get the same job), with the brand''s encrypted bot token. No row when the queue is empty.';
REVOKE ALL ON FUNCTION saas.claim_extraction_job(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION saas.claim_extraction_job(text) TO service_role;


CREATE OR REPLACE FUNCTION saas.report_extraction_progress(p_job_id uuid, p_progress jsonb)
RETURNS boolean
LANGUAGE sql
SET search_path = ''
AS $$
    UPDATE saas.extraction_jobs AS j
    SET progress = coalesce(p_progress, '{}'::jsonb), heartbeat_at = now()
    WHERE j.id = p_job_id AND j.status = 'running'
    RETURNING j.cancel_requested
$$;

COMMENT ON FUNCTION saas.report_extraction_progress(uuid, jsonb) IS 'The worker reports a running job''s progress (and its heartbeat); returns TRUE when the job was asked to cancel (NULL when the job is not running).';
REVOKE ALL ON FUNCTION saas.report_extraction_progress(uuid, jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION saas.report_extraction_progress(uuid, jsonb) TO service_role;


CREATE OR REPLACE FUNCTION saas.finish_extraction_job(p_job_id uuid, p_status text, p_result jsonb DEFAULT NULL, p_error text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_status text;
BEGIN
    IF p_status IS NULL OR p_status NOT IN ('succeeded', 'failed', 'cancelled') THEN
        RAISE EXCEPTION 'a job finishes as succeeded, failed or cancelled, not %', p_status USING ERRCODE = 'RW009';
    END IF;
    UPDATE saas.extraction_jobs AS j
    SET status = p_status, result = p_result, error = p_error, finished_at = now(),
        progress = j.progress || jsonb_build_object('phase', p_status)
    WHERE j.id = p_job_id AND j.status = 'running'
    RETURNING j.status INTO v_status;
    RETURN jsonb_build_object('status', CASE WHEN v_status IS NULL THEN 'not_running' ELSE 'finished' END, 'job_id', p_job_id);
END;
$$;

COMMENT ON FUNCTION saas.finish_extraction_job(uuid, text, jsonb, text) IS 'The worker closes a running job as succeeded, failed or cancelled, with its result or error. Returns {"status": "finished"|"not_running"}. Raises RW009 (another status).';
REVOKE ALL ON FUNCTION saas.finish_extraction_job(uuid, text, jsonb, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION saas.finish_extraction_job(uuid, text, jsonb, text) TO service_role;


CREATE OR REPLACE FUNCTION saas.apply_stripe_subscription(
    p_event_id text,
    p_event_type text,
    p_brand_id text,
    p_plan text,
    p_status text,
    p_customer_id text DEFAULT NULL,
    p_subscription_id text DEFAULT NULL,
    p_current_period_end timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_fresh boolean;
BEGIN
    IF nullif(p_event_id, '') IS NULL OR nullif(p_brand_id, '') IS NULL THEN
        RAISE EXCEPTION 'a Stripe event id and a brand are required' USING ERRCODE = 'RW003';
    ELSIF NOT EXISTS (SELECT FROM saas.plans AS p WHERE p.plan = p_plan) THEN
        RAISE EXCEPTION 'unknown plan %', p_plan USING ERRCODE = 'RW003';
    END IF;
    INSERT INTO saas.stripe_events (event_id, event_type, brand_id)
    VALUES (p_event_id, p_event_type, p_brand_id)
    ON CONFLICT (event_id) DO NOTHING
    RETURNING TRUE INTO v_fresh;
    IF v_fresh IS NULL THEN
        RETURN jsonb_build_object('status', 'duplicate', 'event_id', p_event_id);
    END IF;
    INSERT INTO saas.subscriptions AS s (brand_id, plan, status, stripe_customer_id, stripe_subscription_id, current_period_end, updated_at)
    VALUES (p_brand_id, p_plan, coalesce(p_status, 'active'), p_customer_id, p_subscription_id, p_current_period_end, now())
    ON CONFLICT (brand_id) DO UPDATE
    SET plan = excluded.plan,
        status = excluded.status,
        stripe_customer_id = coalesce(excluded.stripe_customer_id, s.stripe_customer_id),
        stripe_subscription_id = coalesce(excluded.stripe_subscription_id, s.stripe_subscription_id),
        current_period_end = coalesce(excluded.current_period_end, s.current_period_end),
        updated_at = now();
    RETURN jsonb_build_object('status', 'applied', 'event_id', p_event_id, 'brand_id', p_brand_id, 'plan', p_plan);
END;
$$;

COMMENT ON FUNCTION saas.apply_stripe_subscription(text, text, text, text, text, text, text, timestamptz) IS 'The Stripe webhook''s one write (service_role): records the event id (a redelivery answers "duplicate" and changes nothing) and sets the brand''s plan, status and Stripe ids. Returns {"status": "applied"|"duplicate"}. Raises RW003 (no event id or brand, unknown plan).';
REVOKE ALL ON FUNCTION saas.apply_stripe_subscription(text, text, text, text, text, text, text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION saas.apply_stripe_subscription(text, text, text, text, text, text, text, timestamptz) TO service_role;
