-- KPIs: the eight documented metrics, read from the daily rollup (resonance.daily_activity), never from
-- raw events; daily/weekly/monthly snapshots, backfill, targets and alerts. Definitions: docs/kpis.md.

CREATE OR REPLACE FUNCTION resonance.kpi_metrics()
RETURNS text []
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT ARRAY[
        'daily_active_users', 'weekly_active_users', 'streak_retention', 'new_user_conversion',
        'voice_participation', 'reward_efficiency', 'churn_rate', 'top_10_concentration'
    ]::text []
$$;

COMMENT ON FUNCTION resonance.kpi_metrics() IS
'The eight KPI names, in documented order (the keys of compute_kpis and of discord_kpi_configs.metric).';

REVOKE ALL ON FUNCTION resonance.kpi_metrics() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.kpi_metrics() TO service_role;


CREATE OR REPLACE FUNCTION resonance.compute_kpis_reusing(p_server_id text, p_from date, p_to date, p_daily jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
SET work_mem = '64MB'
AS $$
DECLARE
    v_days integer := p_to - p_from + 1;
    v_window integer;
    v_low date;
    v_member_days bigint;
    v_wau bigint;
    v_active bigint;
    v_voice bigint;
    v_actions bigint;
    v_rsnc numeric;
    v_prev bigint;
    v_churned bigint;
    v_top numeric;
    v_pairs bigint;
    v_pair_base bigint;
    v_cohort bigint;
    v_converted bigint;
    v_reused boolean := FALSE;
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_from > p_to THEN
        RAISE EXCEPTION 'invalid KPI period % .. %', p_from, p_to USING ERRCODE = 'RS504';
    END IF;
    v_window := greatest(v_days, 7);
    -- Every window below lies in v_low .. p_to (w >= n, so p_to - 2w + 1 <= p_from - n).
    v_low := p_to - 2 * v_window + 1;

    -- The period's own rows: activity, voice, actions and RSNC per member (one row per member-day).
    -- (Active = the member took an action that day: resonance.daily_activity.actions > 0; rewards
    -- alone, such as drips, bonuses and achievements, are not activity but still count as RSNC.)
    WITH period_members AS (
        SELECT
            count(*) FILTER (WHERE da.actions > 0) AS active_days,
            bool_or(da.voice_minutes > 0 AND da.actions > 0) AS in_voice,
            sum(da.actions) AS actions,
            sum(da.rsnc_earned) AS rsnc
        FROM resonance.daily_activity AS da
        WHERE
            da.server_id = p_server_id
            AND da.activity_date BETWEEN p_from AND p_to
        GROUP BY da.discord_user_id
    )

    SELECT
        coalesce(sum(pm.active_days), 0),
        count(*) FILTER (WHERE pm.active_days > 0),
        count(*) FILTER (WHERE pm.in_voice),
        coalesce(sum(pm.actions), 0),
        coalesce(sum(pm.rsnc), 0),
        (SELECT coalesce(sum(t.rsnc), 0) FROM (
            SELECT pm2.rsnc FROM period_members AS pm2 WHERE pm2.rsnc > 0 ORDER BY pm2.rsnc DESC LIMIT 10
        ) AS t)
    INTO v_member_days, v_active, v_voice, v_actions, v_rsnc, v_top
    FROM period_members AS pm;

    -- The comparison windows. A week's window is the same 7 days as its last day's (w = 7 both):
    -- weekly_active_users, new_user_conversion and churn_rate are then the daily snapshot's, reused
    -- instead of read again (p_daily). Otherwise one integer mask per member active in
    -- p_to - 2w + 1 .. p_to (1 = active in the current window, 2 = in the previous one, 4 = in the last 7 days).
    IF p_daily IS NOT NULL AND v_window = 7 THEN
        v_wau := (p_daily ->> 'weekly_active_users')::bigint;
        v_reused := TRUE;
    ELSE
        WITH masks AS (
            SELECT
                da.discord_user_id AS member,
                bit_or(
                    CASE WHEN da.activity_date > p_to - v_window THEN 1 ELSE 2 END
                    | CASE WHEN da.activity_date > p_to - 7 THEN 4 ELSE 0 END
                ) AS mask
            FROM resonance.daily_activity AS da
            WHERE
                da.server_id = p_server_id
                AND da.activity_date BETWEEN v_low AND p_to
                AND da.actions > 0
            GROUP BY da.discord_user_id
        ),

        cohort AS (
            SELECT
                count(*) AS cohort,
                count(*) FILTER (WHERE m.mask & 1 = 1) AS converted
            FROM public.discord_user_stats AS st
            LEFT JOIN masks AS m ON st.discord_user_id = m.member
            WHERE
                st.server_id = p_server_id
                AND st.first_seen_at >= ((p_to - 2 * v_window + 1)::timestamp AT TIME ZONE 'UTC')
                AND st.first_seen_at < ((p_to - v_window + 1)::timestamp AT TIME ZONE 'UTC')
        )

        SELECT
            count(*) FILTER (WHERE m.mask & 4 = 4),
            count(*) FILTER (WHERE m.mask & 2 = 2),
            count(*) FILTER (WHERE m.mask & 3 = 2),
            (SELECT c.cohort FROM cohort AS c),
            (SELECT c.converted FROM cohort AS c)
        INTO v_wau, v_prev, v_churned, v_cohort, v_converted
        FROM masks AS m;
    END IF;

    -- Check-in pairs (day d-1 and day d, d in the period), read from the check-in rows only.
    SELECT
        count(*) FILTER (WHERE b.discord_user_id IS NOT NULL),
        count(*)
    INTO v_pairs, v_pair_base
    FROM resonance.daily_activity AS a
    LEFT JOIN resonance.daily_activity AS b
        ON
            b.server_id = p_server_id
            AND b.activity_date BETWEEN p_from AND p_to
            AND b.activity_date = a.activity_date + 1
            AND b.discord_user_id = a.discord_user_id
            AND b.checkins > 0
    WHERE
        a.server_id = p_server_id
        AND a.activity_date BETWEEN p_from - 1 AND p_to - 1
        AND a.checkins > 0;

    RETURN jsonb_build_object(
        'daily_active_users',
        CASE WHEN v_days = 1 THEN to_jsonb(v_member_days) ELSE to_jsonb(round(v_member_days::numeric / v_days, 2)) END,
        'weekly_active_users', v_wau,
        'streak_retention', CASE WHEN v_pair_base > 0 THEN round(v_pairs::numeric / v_pair_base, 4) END,
        'new_user_conversion', CASE
            WHEN v_reused THEN p_daily -> 'new_user_conversion'
            WHEN v_cohort > 0 THEN to_jsonb(round(v_converted::numeric / v_cohort, 4))
            ELSE 'null'::jsonb
        END,
        'voice_participation', CASE WHEN v_active > 0 THEN round(v_voice::numeric / v_active, 4) END,
        'reward_efficiency', CASE WHEN v_rsnc > 0 THEN round(v_actions / v_rsnc, 4) END,
        'churn_rate', CASE
            WHEN v_reused THEN p_daily -> 'churn_rate'
            WHEN v_prev > 0 THEN to_jsonb(round(v_churned::numeric / v_prev, 4))
            ELSE 'null'::jsonb
        END,
        'top_10_concentration', CASE WHEN v_rsnc > 0 THEN round(v_top / v_rsnc, 4) END
    );
END;
$$;

COMMENT ON FUNCTION resonance.compute_kpis_reusing(text, date, date, jsonb) IS
'The body of resonance.compute_kpis_for_period. With p_daily (the metrics of the day p_to, as computed for its daily snapshot) and a window of 7 days (a period of up to 7 days: a week), weekly_active_users, new_user_conversion and churn_rate are taken from p_daily (the same windows) instead of read from the rollup again; the period''s own metrics are computed from its rows.';

REVOKE ALL ON FUNCTION resonance.compute_kpis_reusing(text, date, date, jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.compute_kpis_reusing(text, date, date, jsonb) TO service_role;


CREATE OR REPLACE FUNCTION resonance.compute_kpis_for_period(p_server_id text, p_from date, p_to date)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT resonance.compute_kpis_reusing(p_server_id, p_from, p_to, NULL)
$$;

COMMENT ON FUNCTION resonance.compute_kpis_for_period(text, date, date) IS
'The eight KPIs over the UTC days p_from..p_to (n days; window w = greatest(n, 7)), from resonance.daily_activity and discord_user_stats.first_seen_at. Active on a day = the member took an action that day (daily_activity.actions > 0: a message, a reaction given, a voice session, a check-in, a drop claim, a custom event whose rule has rule_metadata.is_action); rewards alone (auto_drip, milestone and one-time bonuses, achievement and goal rewards) and reactions received are not activity. daily_active_users: active member-days / n (an integer for one day). weekly_active_users: members active in the 7 days ending p_to. streak_retention: over days d in the period, members who checked in on d-1 and d / members who checked in on d-1. new_user_conversion: of members first seen in [p_to-2w+1, p_to-w], the share active in [p_to-w+1, p_to]. voice_participation: members with voice minutes in the period / members active in the period. reward_efficiency: actions (daily_activity.actions) / RSNC distributed (every reward, drips included), in the period. churn_rate: of members active in [p_to-2w+1, p_to-w], the share not active in [p_to-w+1, p_to]. top_10_concentration: RSNC earned by the 10 largest earners of the period / all RSNC earned in it. Ratios are rounded to 4 decimals and NULL when the denominator is 0. Raises RS504 for an empty or inverted period.';

REVOKE ALL ON FUNCTION resonance.compute_kpis_for_period(text, date, date) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.compute_kpis_for_period(text, date, date) TO service_role;


CREATE OR REPLACE FUNCTION resonance.compute_kpis(p_server_id text, p_day date)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT resonance.compute_kpis_for_period(p_server_id, p_day, p_day)
$$;

COMMENT ON FUNCTION resonance.compute_kpis(text, date) IS
'The eight KPIs of one server for the UTC day p_day, read from resonance.daily_activity (never raw events). Active = an action that day (daily_activity.actions > 0); rewards alone are not activity. daily_active_users: members active on p_day. weekly_active_users: members active on at least one of the 7 days p_day-6..p_day. streak_retention: members who checked in on p_day-1 and p_day / members who checked in on p_day-1. new_user_conversion: members first seen (discord_user_stats.first_seen_at) in p_day-13..p_day-7 and active in p_day-6..p_day / members first seen in p_day-13..p_day-7. voice_participation: members with voice minutes on p_day / members active on p_day. reward_efficiency: actions on p_day / RSNC distributed on p_day. churn_rate: members active in p_day-13..p_day-7 but not in p_day-6..p_day / members active in p_day-13..p_day-7. top_10_concentration: RSNC earned on p_day by its 10 largest earners / all RSNC earned on p_day. Ratios: 4 decimals, NULL when the denominator is 0. See docs/kpis.md.';

REVOKE ALL ON FUNCTION resonance.compute_kpis(text, date) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.compute_kpis(text, date) TO service_role;


CREATE OR REPLACE FUNCTION resonance.snapshot_server_kpis(p_server_id text, p_day date)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_daily jsonb := resonance.compute_kpis(p_server_id, p_day);
BEGIN
    INSERT INTO public.discord_kpi_snapshots AS s (server_id, snapshot_date, snapshot_type, metrics)
    VALUES (p_server_id, p_day, 'daily', v_daily)
    ON CONFLICT (server_id, snapshot_date, snapshot_type) DO UPDATE
    SET metrics = excluded.metrics, created_at = now();

    -- The last day of an ISO week (Sunday) closes the week Monday..Sunday; its window metrics are
    -- the day's (the same 7-day windows), so only the week's own rows are read again.
    IF extract(ISODOW FROM p_day) = 7 THEN
        INSERT INTO public.discord_kpi_snapshots AS s (server_id, snapshot_date, snapshot_type, metrics)
        VALUES (p_server_id, p_day - 6, 'weekly', resonance.compute_kpis_reusing(p_server_id, p_day - 6, p_day, v_daily))
        ON CONFLICT (server_id, snapshot_date, snapshot_type) DO UPDATE
        SET metrics = excluded.metrics, created_at = now();
    END IF;

    -- The last day of a month closes the calendar month.
    IF extract(DAY FROM p_day + 1) = 1 THEN
        INSERT INTO public.discord_kpi_snapshots AS s (server_id, snapshot_date, snapshot_type, metrics)
        VALUES (
            p_server_id, date_trunc('month', p_day)::date, 'monthly',
            resonance.compute_kpis_for_period(p_server_id, date_trunc('month', p_day)::date, p_day)
        )
        ON CONFLICT (server_id, snapshot_date, snapshot_type) DO UPDATE
        SET metrics = excluded.metrics, created_at = now();
    END IF;
END;
$$;

COMMENT ON FUNCTION resonance.snapshot_server_kpis(text, date) IS
'One server''s KPI snapshots for the UTC day p_day (see resonance.snapshot_kpis): daily, plus weekly on a Sunday (reusing the daily''s weekly_active_users, new_user_conversion and churn_rate: the same windows) and monthly on a month''s last day. Idempotent per server, date and type.';

REVOKE ALL ON FUNCTION resonance.snapshot_server_kpis(text, date) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.snapshot_server_kpis(text, date) TO service_role;


CREATE OR REPLACE FUNCTION resonance.snapshot_kpis(p_day date DEFAULT ((now() AT TIME ZONE 'UTC')::date - 1))
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_day date := coalesce(p_day, (now() AT TIME ZONE 'UTC')::date - 1);
    v_server_id text;
    v_from date;
    v_servers integer := 0;
BEGIN
    -- Job isolation (db/functions/job_isolation.sql): one subtransaction per server; a server that
    -- failed before catches up from its first missed day (at most a year back).
    FOR v_server_id IN
        SELECT c.server_id FROM public.discord_server_configs AS c WHERE c.is_active ORDER BY c.server_id
    LOOP
        BEGIN
            v_from := least(
                greatest(
                    coalesce((resonance.job_missed_from('kpi_snapshot', v_server_id) AT TIME ZONE 'UTC')::date, v_day),
                    v_day - 366
                ),
                v_day
            );
            FOR i IN 0 .. v_day - v_from LOOP
                PERFORM resonance.snapshot_server_kpis(v_server_id, v_from + i);
            END LOOP;
            PERFORM resonance.job_succeeded('kpi_snapshot', v_server_id);
            v_servers := v_servers + 1;
        EXCEPTION WHEN OTHERS THEN
            PERFORM resonance.job_failed('kpi_snapshot', v_server_id, v_day::timestamp AT TIME ZONE 'UTC', SQLSTATE, SQLERRM);
        END;
    END LOOP;
    RETURN v_servers;
END;
$$;

COMMENT ON FUNCTION resonance.snapshot_kpis(date) IS
'Snapshots the KPIs of every active server for the UTC day p_day (default: yesterday): a daily snapshot (snapshot_date = p_day); when p_day is a Sunday also a weekly one over Monday..Sunday (snapshot_date = that Monday), reusing the daily snapshot''s weekly_active_users, new_user_conversion and churn_rate (the same 7-day windows) instead of reading the rollup for them again; when p_day is the last day of its month also a monthly one over the calendar month (snapshot_date = the 1st). Idempotent per server, date and type: a rerun replaces the metrics. Server by server in subtransactions: a failing server is logged in public.discord_job_errors (job kpi_snapshot) and the others go on; its missed days are snapshotted by the first run that succeeds for it. Returns the number of servers snapshotted.';

REVOKE ALL ON FUNCTION resonance.snapshot_kpis(date) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.snapshot_kpis(date) TO service_role;


CREATE OR REPLACE FUNCTION resonance.backfill_kpis(p_from date, p_to date)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_day date;
    v_total integer := 0;
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_from > p_to OR p_to - p_from > 366 THEN
        RAISE EXCEPTION 'invalid backfill range % .. % (at most 367 days)', p_from, p_to USING ERRCODE = 'RS504';
    END IF;
    v_day := p_from;
    WHILE v_day <= p_to LOOP
        v_total := v_total + resonance.snapshot_kpis(v_day);
        v_day := v_day + 1;
    END LOOP;
    RETURN v_total;
END;
$$;

COMMENT ON FUNCTION resonance.backfill_kpis(date, date) IS
'Runs resonance.snapshot_kpis for every UTC day p_from..p_to (at most 367 days), so weeks and months closing inside the range get their weekly and monthly snapshots too. Idempotent (reruns replace). Returns the number of daily server snapshots written. Raises RS504 for an empty, inverted or too long range.';

REVOKE ALL ON FUNCTION resonance.backfill_kpis(date, date) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.backfill_kpis(date, date) TO service_role;


CREATE OR REPLACE FUNCTION resonance.set_kpi_target(
    p_server_id text,
    p_metric text,
    p_target_value numeric,
    p_period text DEFAULT 'week',
    p_alert_threshold numeric DEFAULT NULL,
    p_is_active boolean DEFAULT TRUE,
    p_actor_id text DEFAULT NULL,
    p_is_test boolean DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_row public.discord_kpi_configs;
    v_channel text;
    v_source text;
BEGIN
    -- The audit rows name the acting admin (the bot passes the admin's Discord id).
    IF p_actor_id IS NOT NULL THEN
        PERFORM resonance.set_actor('admin', p_actor_id, p_is_test);
    END IF;
    IF NOT EXISTS (SELECT FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id) THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    IF p_metric IS NULL OR NOT p_metric = ANY(resonance.kpi_metrics()) THEN
        RAISE EXCEPTION 'unknown KPI metric %', p_metric USING ERRCODE = 'RS501';
    END IF;
    IF p_period IS NULL OR p_period NOT IN ('day', 'week', 'month') THEN
        RAISE EXCEPTION 'unknown KPI period % (day, week or month)', p_period USING ERRCODE = 'RS502';
    END IF;
    IF p_target_value IS NULL THEN
        RAISE EXCEPTION 'a KPI target needs a target value' USING ERRCODE = 'RS503';
    END IF;

    INSERT INTO public.discord_kpi_configs AS k (
        server_id, metric, target_value, period, alert_threshold, is_active
    )
    VALUES (p_server_id, p_metric, p_target_value, p_period, p_alert_threshold, coalesce(p_is_active, TRUE))
    ON CONFLICT ON CONSTRAINT unique_kpi_config DO UPDATE
    SET target_value = excluded.target_value,
        alert_threshold = excluded.alert_threshold,
        is_active = excluded.is_active,
        updated_at = now()
    RETURNING k.* INTO v_row;

    SELECT ch.channel_id, ch.source INTO v_channel, v_source FROM resonance.kpi_alert_channel(p_server_id) AS ch;
    RETURN to_jsonb(v_row) || jsonb_build_object(
        'alerts_to', v_channel,
        'alerts_via', coalesce(v_source, 'none'),
        'alerts_on', CASE WHEN v_row.alert_threshold IS NULL THEN 'target_value' ELSE 'alert_threshold' END
    );
END;
$$;

COMMENT ON FUNCTION resonance.set_kpi_target(text, text, numeric, text, numeric, boolean, text, boolean) IS
'Creates or updates the target of one KPI for one server and period (day, week or month; one row per server, metric and period) and returns the row as jsonb, with where its alerts will go: alerts_to (a channel id or NULL), alerts_via (alert_channel, report_channel, system_channel, or none: no channel configured, alerts cannot be delivered) and alerts_on (alert_threshold, or target_value when no threshold is set). alert_threshold is an absolute value of the metric: churn_rate and top_10_concentration alert when the period''s value is above it, every other metric when it is below it; NULL = alert when the target itself is missed. p_actor_id (the acting admin) and p_is_test are recorded on the audit rows. Raises RS001 (unknown server), RS501 (unknown metric), RS502 (unknown period), RS503 (no target value).';

REVOKE ALL ON FUNCTION resonance.set_kpi_target(text, text, numeric, text, numeric, boolean, text, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.set_kpi_target(text, text, numeric, text, numeric, boolean, text, boolean) TO service_role;


CREATE OR REPLACE FUNCTION resonance.kpi_alert_channel(p_server_id text, OUT channel_id text, OUT source text)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    -- The configured alert channel, else the report schedule's channel, else the server's system channel.
    SELECT
        coalesce(s.config_metadata -> 'kpi_alerts' ->> 'channel_id', s.config_metadata ->> 'alert_channel_id'),
        s.config_metadata ->> 'system_channel_id'
    INTO channel_id, source
    FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
    IF channel_id IS NOT NULL THEN
        source := 'alert_channel';
        RETURN;
    END IF;
    SELECT rs.channel_id INTO channel_id
    FROM public.discord_report_schedules AS rs
    WHERE rs.server_id = p_server_id AND rs.channel_id IS NOT NULL
    ORDER BY rs.is_active DESC
    LIMIT 1;
    IF channel_id IS NOT NULL THEN
        source := 'report_channel';
        RETURN;
    END IF;
    IF source IS NOT NULL THEN
        channel_id := source;
        source := 'system_channel';
    END IF;
END;
$$;

COMMENT ON FUNCTION resonance.kpi_alert_channel(text) IS
'Where a server''s KPI alerts go: config_metadata.kpi_alerts.channel_id (or config_metadata.alert_channel_id) = alert_channel; else the channel of its report schedule = report_channel; else config_metadata.system_channel_id = system_channel; else NULL (no channel: alerts cannot be delivered, and set_kpi_target says so).';

REVOKE ALL ON FUNCTION resonance.kpi_alert_channel(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.kpi_alert_channel(text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.check_kpi_alerts(
    p_day date DEFAULT ((now() AT TIME ZONE 'UTC')::date - 1),
    p_server_id text DEFAULT NULL
)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_day date := coalesce(p_day, (now() AT TIME ZONE 'UTC')::date - 1);
    v_queued integer;
    v_server_id text;
    v_from date;
BEGIN
    IF p_server_id IS NULL THEN
        -- Job isolation (db/functions/job_isolation.sql): every server with alerts in its own
        -- subtransaction; a server that failed before catches up from its first missed day.
        v_queued := 0;
        FOR v_server_id IN
            SELECT DISTINCT k.server_id
            FROM public.discord_kpi_configs AS k
            WHERE k.is_active
            ORDER BY k.server_id
        LOOP
            BEGIN
                v_from := least(
                    greatest(
                        coalesce((resonance.job_missed_from('kpi_alerts', v_server_id) AT TIME ZONE 'UTC')::date, v_day),
                        v_day - 366
                    ),
                    v_day
                );
                FOR i IN 0 .. v_day - v_from LOOP
                    v_queued := v_queued + resonance.check_kpi_alerts(v_from + i, v_server_id);
                END LOOP;
                PERFORM resonance.job_succeeded('kpi_alerts', v_server_id);
            EXCEPTION WHEN OTHERS THEN
                PERFORM resonance.job_failed('kpi_alerts', v_server_id, v_day::timestamp AT TIME ZONE 'UTC', SQLSTATE, SQLERRM);
            END;
        END LOOP;
        RETURN v_queued;
    END IF;

    WITH configs AS (
        SELECT
            k.server_id,
            k.metric,
            k.period,
            k.target_value,
            k.alert_threshold,
            CASE k.period
                WHEN 'day' THEN v_day
                WHEN 'week' THEN v_day - (extract(ISODOW FROM v_day)::integer - 1)
                ELSE date_trunc('month', v_day)::date
            END AS period_start,
            CASE k.period WHEN 'day' THEN 'daily' WHEN 'week' THEN 'weekly' ELSE 'monthly' END AS snapshot_type
        FROM public.discord_kpi_configs AS k
        JOIN public.discord_server_configs AS c ON k.server_id = c.server_id
        WHERE
            k.is_active
            AND c.is_active
            AND (p_server_id IS NULL OR k.server_id = p_server_id)
    ),

    -- The bar: alert_threshold when set, else the target itself (a missed target alerts).
    breaches AS (
        SELECT
            cf.*,
            ch.channel_id,
            (sn.metrics ->> cf.metric)::numeric AS value,
            coalesce(cf.alert_threshold, cf.target_value) AS bar,
            CASE
                WHEN cf.metric IN ('churn_rate', 'top_10_concentration')
                    THEN (sn.metrics ->> cf.metric)::numeric <= cf.target_value
                ELSE (sn.metrics ->> cf.metric)::numeric >= cf.target_value
            END AS target_met
        FROM configs AS cf
        JOIN public.discord_kpi_snapshots AS sn
            ON
                cf.server_id = sn.server_id
                AND cf.period_start = sn.snapshot_date
                AND cf.snapshot_type = sn.snapshot_type
        CROSS JOIN LATERAL resonance.kpi_alert_channel(cf.server_id) AS ch
        WHERE
            ch.channel_id IS NOT NULL
            AND CASE
                WHEN cf.metric IN ('churn_rate', 'top_10_concentration')
                    THEN (sn.metrics ->> cf.metric)::numeric > coalesce(cf.alert_threshold, cf.target_value)
                ELSE (sn.metrics ->> cf.metric)::numeric < coalesce(cf.alert_threshold, cf.target_value)
            END
    )

    INSERT INTO resonance.outbox (server_id, kind, payload, dedup_key)
    SELECT
        b.server_id,
        'send_message',
        jsonb_build_object(
            'type', 'kpi_alert',
            'channel_id', b.channel_id,
            'content', CASE
                WHEN b.alert_threshold IS NULL THEN format(
                    'KPI alert: %s was %s for the %s starting %s (target %s missed).',
                    b.metric, b.value, b.period, b.period_start, b.target_value
                )
                ELSE format(
                    'KPI alert: %s was %s for the %s starting %s (alert threshold %s, target %s).',
                    b.metric, b.value, b.period, b.period_start, b.alert_threshold, b.target_value
                )
            END,
            'metric', b.metric,
            'value', b.value,
            'target_value', b.target_value,
            'target_met', b.target_met,
            'alert_threshold', b.alert_threshold,
            'period', b.period,
            'period_start', b.period_start
        ),
        format('kpi_alert:%s:%s:%s:%s', b.server_id, b.metric, b.period, b.period_start)
    FROM breaches AS b
    ORDER BY b.server_id, b.metric, b.period
    ON CONFLICT (dedup_key) DO NOTHING;
    GET DIAGNOSTICS v_queued = ROW_COUNT;
    RETURN v_queued;
END;
$$;

COMMENT ON FUNCTION resonance.check_kpi_alerts(date, text) IS
'Compares the snapshots covering p_day (default yesterday; daily = that day, weekly = its ISO week, monthly = its month, each only once snapshot_kpis wrote it) with every active target: the bar is alert_threshold when set, else target_value itself (a missed target alerts); below it alerts (above it for churn_rate and top_10_concentration). Each breach queues ONE send_message in resonance.outbox (value, target_value, target_met, alert_threshold) to resonance.kpi_alert_channel: the configured alert channel, else the report schedule''s channel, else the server''s system channel (a server with none of them gets no alert, and set_kpi_target said so), dedup_key kpi_alert:<server>:<metric>:<period>:<period start>, so reruns never duplicate. Optionally one server; without one, server by server in subtransactions (a failing server is logged in public.discord_job_errors, job kpi_alerts, and its missed days are checked by the first run that succeeds for it). Returns the number of alerts newly queued.';

REVOKE ALL ON FUNCTION resonance.check_kpi_alerts(date, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.check_kpi_alerts(date, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.kpi_targets_vs(p_server_id text, p_period text, p_metrics jsonb)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    -- Every active target of the server for this period, against the period's metrics.
    SELECT coalesce(jsonb_agg(jsonb_build_object(
        'metric', k.metric,
        'value', p_metrics -> k.metric,
        'target_value', k.target_value,
        'alert_threshold', k.alert_threshold,
        'target_met', CASE
            WHEN p_metrics -> k.metric IS NULL OR jsonb_typeof(p_metrics -> k.metric) <> 'number' THEN NULL
            WHEN k.metric IN ('churn_rate', 'top_10_concentration') THEN (p_metrics ->> k.metric)::numeric <= k.target_value
            ELSE (p_metrics ->> k.metric)::numeric >= k.target_value
        END
    ) ORDER BY k.metric), '[]'::jsonb)
    FROM public.discord_kpi_configs AS k
    WHERE k.server_id = p_server_id
        AND k.is_active
        AND k.period = CASE p_period WHEN 'daily' THEN 'day' WHEN 'weekly' THEN 'week' WHEN 'monthly' THEN 'month' ELSE p_period END
$$;

COMMENT ON FUNCTION resonance.kpi_targets_vs(text, text, jsonb) IS
'The server''s active KPI targets of a period (day|week|month, or daily|weekly|monthly) against that period''s metrics: [{metric, value, target_value, alert_threshold, target_met}] (target_met: value at or above the target, at or below it for churn_rate and top_10_concentration; NULL without a value). Reports show it as "targets".';

REVOKE ALL ON FUNCTION resonance.kpi_targets_vs(text, text, jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.kpi_targets_vs(text, text, jsonb) TO service_role;
