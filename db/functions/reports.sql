-- Scheduled reports (discord_report_schedules) and the ledger reconciliation check.

CREATE OR REPLACE FUNCTION resonance.set_report_schedule(
    p_server_id text,
    p_frequency text,
    p_channel_id text,
    p_day_of_week integer DEFAULT NULL,
    p_is_active boolean DEFAULT TRUE,
    p_actor_id text DEFAULT NULL,
    p_is_test boolean DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_row public.discord_report_schedules;
BEGIN
    -- The audit rows name the acting admin (the bot passes the admin's Discord id).
    IF p_actor_id IS NOT NULL THEN
        PERFORM resonance.set_actor('admin', p_actor_id, p_is_test);
    END IF;
    IF NOT EXISTS (SELECT FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id) THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    IF p_frequency IS NULL OR p_frequency NOT IN ('daily', 'weekly', 'monthly') THEN
        RAISE EXCEPTION 'unknown report frequency % (daily, weekly or monthly)', p_frequency USING ERRCODE = 'RS506';
    END IF;
    IF (p_frequency = 'weekly' AND p_day_of_week IS NULL) OR p_day_of_week NOT BETWEEN 0 AND 6 THEN
        RAISE EXCEPTION 'day_of_week must be 0 (Sunday) .. 6 (Saturday) for a weekly report, got %', p_day_of_week
            USING ERRCODE = 'RS507';
    END IF;
    IF p_channel_id IS NULL OR p_channel_id = '' THEN
        RAISE EXCEPTION 'a report schedule needs a channel' USING ERRCODE = 'RS508';
    END IF;

    INSERT INTO public.discord_report_schedules AS r (server_id, frequency, channel_id, day_of_week, is_active)
    VALUES (p_server_id, p_frequency, p_channel_id, p_day_of_week, coalesce(p_is_active, TRUE))
    ON CONFLICT (server_id) DO UPDATE
    SET frequency = excluded.frequency,
        channel_id = excluded.channel_id,
        day_of_week = excluded.day_of_week,
        is_active = excluded.is_active
    RETURNING r.* INTO v_row;

    RETURN to_jsonb(v_row);
END;
$$;

COMMENT ON FUNCTION resonance.set_report_schedule(text, text, text, integer, boolean, text, boolean) IS
'Creates or replaces the report schedule of a server (one per server): daily, weekly on day_of_week (0 = Sunday .. 6 = Saturday, UTC) or monthly (on the 1st, UTC), posted to p_channel_id; last_sent_at is kept. Returns the row as jsonb. p_actor_id (the acting admin) and p_is_test are recorded on the audit rows. Raises RS001 (unknown server), RS506 (unknown frequency), RS507 (day_of_week missing for weekly or outside 0..6), RS508 (no channel).';

REVOKE ALL ON FUNCTION resonance.set_report_schedule(text, text, text, integer, boolean, text, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.set_report_schedule(text, text, text, integer, boolean, text, boolean) TO service_role;


CREATE OR REPLACE FUNCTION resonance.report_due_since(p_frequency text, p_day_of_week integer, p_today date)
RETURNS date
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT CASE p_frequency
        WHEN 'daily' THEN p_today
        WHEN 'weekly' THEN p_today - ((extract(DOW FROM p_today)::integer - p_day_of_week + 7) % 7)
        WHEN 'monthly' THEN date_trunc('month', p_today)::date
    END
$$;

COMMENT ON FUNCTION resonance.report_due_since(text, integer, date) IS
'The latest UTC day on or before p_today on which a report of this frequency falls due: today (daily), the latest day_of_week (weekly, 0 = Sunday), the 1st of the month (monthly). A schedule is due when last_sent_at is before that day''s midnight UTC, so a missed report goes out at the next poll.';

REVOKE ALL ON FUNCTION resonance.report_due_since(text, integer, date) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.report_due_since(text, integer, date) TO service_role;


CREATE OR REPLACE FUNCTION resonance.build_report(p_server_id text, p_period text, p_as_of date DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
SET work_mem = '64MB'
AS $$
DECLARE
    v_to date := coalesce(p_as_of, (now() AT TIME ZONE 'UTC')::date - 1);
    v_period text;
    v_from date;
    v_prev_from date;
    v_prev_to date;
    v_summary jsonb;
    v_top jsonb;
    v_streaks jsonb;
    v_drops_created bigint;
    v_current jsonb;
    v_previous jsonb;
    v_change jsonb;
BEGIN
    IF NOT EXISTS (SELECT FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id) THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    v_period := CASE p_period
        WHEN 'daily' THEN 'daily' WHEN 'day' THEN 'daily'
        WHEN 'weekly' THEN 'weekly' WHEN 'week' THEN 'weekly'
        WHEN 'monthly' THEN 'monthly' WHEN 'month' THEN 'monthly'
    END;
    IF v_period IS NULL THEN
        RAISE EXCEPTION 'unknown report period % (daily, weekly or monthly)', p_period USING ERRCODE = 'RS506';
    END IF;

    IF v_period = 'daily' THEN
        v_from := v_to;
        v_prev_from := v_to - 1;
        v_prev_to := v_to - 1;
    ELSIF v_period = 'weekly' THEN
        v_from := v_to - 6;
        v_prev_from := v_to - 13;
        v_prev_to := v_to - 7;
    ELSE
        v_from := date_trunc('month', v_to)::date;
        v_prev_to := v_from - 1;
        v_prev_from := date_trunc('month', v_prev_to)::date;
    END IF;

    -- One pass over the period's rollup rows, per member: the totals and the top earners.
    WITH per_member AS (
        SELECT
            da.discord_user_id,
            bool_or(da.actions > 0) AS is_active,
            sum(da.messages_count) AS messages,
            sum(da.voice_minutes) AS voice_minutes,
            sum(da.reactions_given) AS reactions,
            sum(da.rsnc_earned) AS rsnc,
            sum(da.checkins) AS checkins,
            sum(da.drops_claimed) AS drop_claims
        FROM resonance.daily_activity AS da
        WHERE da.server_id = p_server_id AND da.activity_date BETWEEN v_from AND v_to
        GROUP BY da.discord_user_id
    )

    SELECT
        jsonb_build_object(
            'active_members', count(*) FILTER (WHERE pm.is_active),
            'messages', coalesce(sum(pm.messages), 0),
            'voice_minutes', coalesce(sum(pm.voice_minutes), 0),
            'reactions', coalesce(sum(pm.reactions), 0),
            'rsnc_distributed', coalesce(sum(pm.rsnc), 0),
            'checkins', coalesce(sum(pm.checkins), 0),
            'members_checked_in', count(*) FILTER (WHERE pm.checkins > 0),
            'drop_claims', coalesce(sum(pm.drop_claims), 0)
        ),
        (
            SELECT coalesce(jsonb_agg(jsonb_build_object('user_id', t.discord_user_id, 'rsnc_earned', t.rsnc)
                ORDER BY t.rsnc DESC, t.discord_user_id), '[]'::jsonb)
            FROM (
                SELECT pm2.discord_user_id, pm2.rsnc
                FROM per_member AS pm2
                WHERE pm2.rsnc > 0
                ORDER BY pm2.rsnc DESC, pm2.discord_user_id
                LIMIT 5
            ) AS t
        )
    INTO v_summary, v_top
    FROM per_member AS pm;

    -- Streaks are current state: alive at the end of v_to when the latest check-in is on v_to or later.
    SELECT jsonb_build_object(
        'active_streaks', count(*),
        'longest_current_streak', coalesce(max(st.current_streak), 0),
        'top', coalesce(
            (
                SELECT jsonb_agg(jsonb_build_object('user_id', x.discord_user_id, 'current_streak', x.current_streak)
                    ORDER BY x.current_streak DESC, x.discord_user_id)
                FROM (
                    SELECT s2.discord_user_id, s2.current_streak
                    FROM public.discord_user_streaks AS s2
                    WHERE
                        s2.server_id = p_server_id AND s2.current_streak > 0
                        AND s2.last_checkin >= (v_to::timestamp AT TIME ZONE 'UTC')
                    ORDER BY s2.current_streak DESC, s2.discord_user_id
                    LIMIT 3
                ) AS x
            ),
            '[]'::jsonb
        )
    )
    INTO v_streaks
    FROM public.discord_user_streaks AS st
    WHERE
        st.server_id = p_server_id AND st.current_streak > 0
        AND st.last_checkin >= (v_to::timestamp AT TIME ZONE 'UTC');

    SELECT count(*) INTO v_drops_created
    FROM public.discord_drops AS d
    WHERE
        d.server_id = p_server_id
        AND d.created_at >= (v_from::timestamp AT TIME ZONE 'UTC')
        AND d.created_at < ((v_to + 1)::timestamp AT TIME ZONE 'UTC');

    v_current := resonance.compute_kpis_for_period(p_server_id, v_from, v_to);
    v_previous := resonance.compute_kpis_for_period(p_server_id, v_prev_from, v_prev_to);
    SELECT jsonb_object_agg(
        m.metric,
        (v_current ->> m.metric)::numeric - (v_previous ->> m.metric)::numeric
    )
    INTO v_change
    FROM unnest(resonance.kpi_metrics()) AS m (metric);

    RETURN v_summary || jsonb_build_object(
        'server_id', p_server_id,
        'period', v_period,
        'from', v_from,
        'to', v_to,
        'top_earners', v_top,
        'streaks', v_streaks,
        'drops', jsonb_build_object('created', v_drops_created, 'claims', v_summary -> 'drop_claims'),
        'kpis', jsonb_build_object(
            'current', v_current,
            'previous', v_previous,
            'previous_from', v_prev_from,
            'previous_to', v_prev_to,
            'change', v_change
        ),
        -- Each metric against its target for this period (issue 16.7).
        'targets', resonance.kpi_targets_vs(p_server_id, v_period, v_current)
    );
END;
$$;

COMMENT ON FUNCTION resonance.build_report(text, text, date) IS
'A jsonb report of one server for a period ending on the UTC day p_as_of (default yesterday): daily = that day, weekly = the 7 days ending on it, monthly = its month up to it. Keys: server_id, period, from, to, active_members, messages, voice_minutes, reactions, rsnc_distributed, checkins, members_checked_in, drop_claims, top_earners (5, by RSNC earned in the period), streaks (alive at the end of the period: count, longest, top 3), drops (created, claims), kpis (current, previous period: the day before / the 7 days before / the previous calendar month, and change = current - previous per metric), targets (the server''s active KPI targets of this period: metric, value, target_value, alert_threshold, target_met; resonance.kpi_targets_vs). Reads the daily rollup, never raw events. p_period: daily|weekly|monthly (or day|week|month). Raises RS001 (unknown server), RS506 (unknown period).';

REVOKE ALL ON FUNCTION resonance.build_report(text, text, date) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.build_report(text, text, date) TO service_role;


CREATE OR REPLACE FUNCTION resonance.due_reports(
    p_now timestamptz DEFAULT NULL,
    p_worker text DEFAULT NULL,
    p_limit integer DEFAULT 20
)
RETURNS TABLE (server_id text, channel_id text, frequency text, due_since date, report jsonb)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_now timestamptz := coalesce(p_now, now());
    v_today date := (coalesce(p_now, now()) AT TIME ZONE 'UTC')::date;
    v_due record;
BEGIN
    FOR v_due IN
        SELECT s.server_id, s.channel_id, s.frequency, s.day_of_week
        FROM public.discord_report_schedules AS s
        JOIN public.discord_server_configs AS c ON s.server_id = c.server_id
        WHERE
            s.is_active
            AND c.is_active
            AND s.frequency IS NOT NULL
            AND (
                -- never sent: due on a due day itself (a new weekly schedule waits for its day)
                (
                    s.last_sent_at IS NULL
                    AND resonance.report_due_since(s.frequency, s.day_of_week, v_today) = v_today
                )
                OR s.last_sent_at < (resonance.report_due_since(s.frequency, s.day_of_week, v_today)::timestamp AT TIME ZONE 'UTC')
            )
        ORDER BY s.server_id
        LIMIT greatest(coalesce(p_limit, 20), 1)
        FOR UPDATE OF s SKIP LOCKED
    LOOP
        -- Job isolation (db/functions/job_isolation.sql): a report that fails to build is logged
        -- (job due_reports), stays unclaimed (due again next call) and the others go out.
        BEGIN
            server_id := v_due.server_id;
            channel_id := v_due.channel_id;
            frequency := v_due.frequency;
            due_since := resonance.report_due_since(v_due.frequency, v_due.day_of_week, v_today);
            report := resonance.build_report(v_due.server_id, v_due.frequency, v_today - 1);
            UPDATE public.discord_report_schedules AS s
            SET last_sent_at = v_now, last_sent_by = p_worker
            WHERE s.server_id = v_due.server_id;
            PERFORM resonance.job_succeeded('due_reports', v_due.server_id);
        EXCEPTION WHEN OTHERS THEN
            PERFORM resonance.job_failed('due_reports', v_due.server_id, v_now, SQLSTATE, SQLERRM);
            CONTINUE;
        END;
        RETURN NEXT;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION resonance.due_reports(timestamptz, text, integer) IS
'Claims up to p_limit report schedules due at p_now (default now(); UTC days): daily once a day, weekly once the latest day_of_week (0 = Sunday) has begun, monthly once the 1st has begun, each when last_sent_at is before that day''s midnight (a missed report goes out at the next call; a schedule never sent is due on a due day only). The due rows are locked FOR UPDATE SKIP LOCKED and last_sent_at/last_sent_by are stamped in the same statement, so concurrent callers (bot replicas, the cron job) never get the same schedule twice. Returns server_id, channel_id, frequency, due_since and the report (resonance.build_report for the period ending yesterday). The caller posts them; a report claimed but never posted is not retried (use resonance.queue_due_reports for the outbox''s retries). Each report is built in its own subtransaction: one that fails is logged in public.discord_job_errors (job due_reports), left unclaimed (due again at the next call) and the others are returned.';

REVOKE ALL ON FUNCTION resonance.due_reports(timestamptz, text, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.due_reports(timestamptz, text, integer) TO service_role;


CREATE OR REPLACE FUNCTION resonance.queue_due_reports(p_now timestamptz DEFAULT NULL, p_limit integer DEFAULT 20)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_queued integer;
BEGIN
    INSERT INTO resonance.outbox (server_id, kind, payload, dedup_key)
    SELECT
        d.server_id,
        'send_report',
        jsonb_build_object(
            'channel_id', d.channel_id, 'frequency', d.frequency, 'due_since', d.due_since, 'report', d.report
        ),
        format('report:%s:%s:%s', d.server_id, d.frequency, d.due_since)
    FROM resonance.due_reports(p_now, 'pg_cron', p_limit) AS d
    ON CONFLICT (dedup_key) DO NOTHING;
    GET DIAGNOSTICS v_queued = ROW_COUNT;
    RETURN v_queued;
END;
$$;

COMMENT ON FUNCTION resonance.queue_due_reports(timestamptz, integer) IS
'The cron side of scheduled reports: claims due schedules through resonance.due_reports (worker ''pg_cron'') and queues each report in resonance.outbox (kind send_report, payload {channel_id, frequency, due_since, report}, dedup_key report:<server>:<frequency>:<due_since>), where the bot posts it with retries. Returns the number queued.';

REVOKE ALL ON FUNCTION resonance.queue_due_reports(timestamptz, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.queue_due_reports(timestamptz, integer) TO service_role;


CREATE OR REPLACE FUNCTION resonance.check_ledger()
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_details jsonb;
    v_count integer;
BEGIN
    IF NOT EXISTS (
        SELECT FROM pg_catalog.pg_proc AS p
        JOIN pg_catalog.pg_namespace AS n ON p.pronamespace = n.oid
        WHERE n.nspname = 'tipping' AND p.proname = 'reconcile' AND p.pronargs = p.pronargdefaults
    ) THEN
        RAISE EXCEPTION 'tipping.reconcile() is not installed' USING ERRCODE = 'RS505';
    END IF;

    SELECT coalesce(jsonb_agg(to_jsonb(r)), '[]'::jsonb), count(*)
    INTO v_details, v_count
    FROM tipping.reconcile() AS r;

    INSERT INTO resonance.ledger_checks (differences, details) VALUES (v_count, v_details);
    RETURN v_count;
END;
$$;

COMMENT ON FUNCTION resonance.check_ledger() IS
'Runs tipping.reconcile() (balances that differ from the sum of their ledger movements) and records the outcome as one row of resonance.ledger_checks (count and the rows as jsonb), whether or not anything differs. Returns the number of differences (0 = the ledger balances). Raises RS505 when tipping.reconcile() is not installed.';

REVOKE ALL ON FUNCTION resonance.check_ledger() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.check_ledger() TO service_role;
