-- KPIs: a small hand-built community whose eight metrics were computed by hand (docs/kpis.md shows
-- the same community as the worked example), snapshots and their reruns, week and month edges,
-- backfill, targets and alerts firing once, and the input errors.
--
-- D = 2026-05-31, a Sunday and the last day of May: its snapshot run also closes the ISO week
-- Mon 2026-05-25 .. Sun 2026-05-31 and the month of May.
BEGIN;
\ir helpers/setup.psql
SELECT plan(78);

INSERT INTO public.discord_server_configs (server_id, brand_id, is_active) VALUES
('k1', 'b1', TRUE),
('k2', 'b1', FALSE);

-- The rollup, by hand. Active = an action: a message, voice session, reaction given, check-in, drop claim.
INSERT INTO resonance.daily_activity (
    server_id, activity_date, discord_user_id,
    messages_count, voice_minutes, reactions_given, reactions_received, checkins, drops_claimed, rewards_count, rsnc_earned
) VALUES
('k1', '2026-05-31', 'alice', 5, 0, 0, 0, 1, 0, 3, 50),
('k1', '2026-05-30', 'alice', 0, 0, 0, 0, 1, 0, 0, 0),
('k1', '2026-05-21', 'alice', 2, 0, 0, 0, 0, 0, 0, 0),
('k1', '2026-05-31', 'bob', 0, 30, 0, 0, 1, 0, 2, 30),
('k1', '2026-05-30', 'bob', 0, 0, 0, 0, 1, 0, 0, 0),
('k1', '2026-05-30', 'carol', 0, 0, 0, 0, 1, 0, 1, 10),
('k1', '2026-05-23', 'dave', 3, 0, 0, 0, 0, 0, 0, 0),
('k1', '2026-05-31', 'erin', 0, 0, 0, 4, 0, 0, 0, 0),
('k1', '2026-05-19', 'erin', 1, 0, 0, 0, 0, 0, 0, 0),
('k1', '2026-05-31', 'frank', 2, 0, 3, 0, 0, 0, 2, 20),
('k1', '2026-05-22', 'frank', 1, 0, 0, 0, 0, 0, 0, 0),
('k1', '2026-05-31', 'g1', 1, 0, 0, 0, 0, 0, 1, 2),
('k1', '2026-05-31', 'g2', 1, 0, 0, 0, 0, 0, 1, 2),
('k1', '2026-05-31', 'g3', 1, 0, 0, 0, 0, 0, 1, 2),
('k1', '2026-05-31', 'g4', 1, 0, 0, 0, 0, 0, 1, 2),
('k1', '2026-05-31', 'g5', 1, 0, 0, 0, 0, 0, 1, 2),
('k1', '2026-05-31', 'g6', 1, 0, 0, 0, 0, 0, 1, 2),
('k1', '2026-05-31', 'g7', 1, 0, 0, 0, 0, 0, 1, 2),
('k1', '2026-05-31', 'g8', 1, 0, 0, 0, 0, 0, 1, 2),
('k1', '2026-05-31', 'g9', 1, 0, 0, 0, 0, 0, 1, 2),
-- another server's rows never leak into k1's numbers
('k2', '2026-05-31', 'alice', 9, 9, 9, 9, 1, 1, 9, 900);
-- Actions, by hand: messages + reactions given + check-ins + drop claims + 1 for a voice session
-- (what the event functions add up; rewards are not actions).
UPDATE resonance.daily_activity
SET actions = messages_count + reactions_given + checkins + drops_claimed + CASE WHEN voice_minutes > 0 THEN 1 ELSE 0 END;

INSERT INTO public.discord_user_stats (server_id, discord_user_id, first_seen_at) VALUES
('k1', 'alice', '2026-05-11 12:00+00'),
('k1', 'bob', '2026-04-21 12:00+00'),
('k1', 'carol', '2026-05-22 12:00+00'),
('k1', 'dave', '2026-05-23 12:00+00'),
('k1', 'erin', '2026-05-01 12:00+00'),
('k1', 'frank', '2026-05-20 12:00+00'),
('k1', 'hank', '2026-05-24 23:59:59+00'),
('k1', 'ivy', '2026-05-25 00:00:00+00'),
('k1', 'g1', '2026-05-31 10:00+00');

-- Expected for D, by hand (docs/kpis.md):
--   active on D: alice, bob, frank, g1..g9 = 12 (erin only received reactions)
--   active 05-25..05-31: those 12 + carol = 13
--   checked in on 05-30: alice, bob, carol; of them on 05-31: alice, bob -> 2/3
--   first seen 05-18..05-24: carol, dave, frank, hank = 4; active 05-25..05-31: carol, frank -> 2/4
--   voice on D: bob -> 1/12
--   actions on D: alice 5+1, bob 1+1 (voice session), frank 2+3, g 9x1 = 22; RSNC on D: 50+30+20+9x2 = 118 -> 22/118
--   active 05-18..05-24: alice, dave, erin, frank = 4; not active 05-25..05-31: dave, erin -> 2/4
--   top 10 earners of D: 50+30+20+7x2 = 114 of 118
CREATE TEMP TABLE k AS SELECT resonance.compute_kpis('k1', '2026-05-31') AS m;

SELECT is((SELECT m -> 'daily_active_users' FROM k), '12'::jsonb, 'daily_active_users: members active on D');
SELECT is((SELECT m -> 'weekly_active_users' FROM k), '13'::jsonb, 'weekly_active_users: members active in D-6..D');
SELECT is((SELECT (m ->> 'streak_retention')::numeric FROM k), 0.6667, 'streak_retention: 2 of the 3 who checked in on D-1 checked in on D');
SELECT is((SELECT (m ->> 'new_user_conversion')::numeric FROM k), 0.5, 'new_user_conversion: 2 of the 4 first seen in D-13..D-7 were active in D-6..D');
SELECT is((SELECT (m ->> 'voice_participation')::numeric FROM k), 0.0833, 'voice_participation: 1 of 12 active members in voice');
SELECT is((SELECT (m ->> 'reward_efficiency')::numeric FROM k), 0.1864, 'reward_efficiency: 22 actions for 118 RSNC');
SELECT is((SELECT (m ->> 'churn_rate')::numeric FROM k), 0.5, 'churn_rate: 2 of the 4 active in D-13..D-7 are gone');
SELECT is((SELECT (m ->> 'top_10_concentration')::numeric FROM k), 0.9661, 'top_10_concentration: 114 of 118 RSNC');
SELECT is(
    (SELECT array_agg(key ORDER BY key) FROM k, jsonb_object_keys(m) AS key),
    (SELECT array_agg(x ORDER BY x) FROM unnest(resonance.kpi_metrics()) AS x),
    'compute_kpis returns exactly the eight documented metrics'
);

-- A quiet day: counts are 0, ratios without a denominator are NULL (JSON null).
SELECT is(
    resonance.compute_kpis('k1', '2026-01-01'),
    '{"daily_active_users": 0, "weekly_active_users": 0, "streak_retention": null, "new_user_conversion": null,
      "voice_participation": null, "reward_efficiency": null, "churn_rate": null, "top_10_concentration": null}'::jsonb,
    'a day without activity: zeros and NULL ratios'
);

-- Snapshots: D is a Sunday and a month end, so daily + weekly + monthly; only the active server.
SELECT is(resonance.snapshot_kpis('2026-05-31'), 1, 'snapshot_kpis counts the active servers');
SELECT is(
    (SELECT metrics FROM public.discord_kpi_snapshots WHERE server_id = 'k1' AND snapshot_date = '2026-05-31' AND snapshot_type = 'daily'),
    (SELECT m FROM k),
    'the daily snapshot holds compute_kpis of the day'
);
SELECT is(
    (SELECT count(*)::integer FROM public.discord_kpi_snapshots WHERE server_id = 'k2'), 0,
    'an inactive server is not snapshotted'
);
-- Week Mon 05-25 .. Sun 05-31: member-days 12 + 3 (05-30: alice, bob, carol) = 15 over 7 days;
-- voice 1 of 13; actions 22 + 3 check-ins = 25 for 118 + 10 RSNC; top 10 = 50+30+20+10+6x2 = 122 of 128.
SELECT is(
    (SELECT metrics FROM public.discord_kpi_snapshots WHERE server_id = 'k1' AND snapshot_date = '2026-05-25' AND snapshot_type = 'weekly'),
    '{"daily_active_users": 2.14, "weekly_active_users": 13, "streak_retention": 0.6667, "new_user_conversion": 0.5,
      "voice_participation": 0.0769, "reward_efficiency": 0.1953, "churn_rate": 0.5, "top_10_concentration": 0.9531}'::jsonb,
    'the weekly snapshot (dated the Monday) covers Mon..Sun'
);
-- May (31 days, window 31): member-days 15 + alice 05-21, frank 05-22, dave 05-23, erin 05-19 = 19;
-- active in May 15, voice 1; actions 25 + 2 + 1 + 3 + 1 = 32 for 128 RSNC; the previous window
-- (04-30 back 31 days) has nobody active -> churn NULL; first seen in it: bob, active in May -> 1.
SELECT is(
    (SELECT metrics FROM public.discord_kpi_snapshots WHERE server_id = 'k1' AND snapshot_date = '2026-05-01' AND snapshot_type = 'monthly'),
    '{"daily_active_users": 0.61, "weekly_active_users": 13, "streak_retention": 0.6667, "new_user_conversion": 1,
      "voice_participation": 0.0667, "reward_efficiency": 0.25, "churn_rate": null, "top_10_concentration": 0.9531}'::jsonb,
    'the monthly snapshot (dated the 1st) covers the calendar month'
);

-- Rerun after new activity: replaced, never duplicated.
INSERT INTO resonance.daily_activity (server_id, activity_date, discord_user_id, messages_count, actions)
VALUES ('k1', '2026-05-31', 'late', 1, 1);
SELECT is(resonance.snapshot_kpis('2026-05-31'), 1, 'a rerun snapshots the same server');
SELECT is(
    (SELECT count(*)::integer FROM public.discord_kpi_snapshots WHERE server_id = 'k1'), 3,
    'a rerun leaves one row per server, date and type'
);
SELECT is(
    (SELECT metrics -> 'daily_active_users' FROM public.discord_kpi_snapshots
        WHERE server_id = 'k1' AND snapshot_date = '2026-05-31' AND snapshot_type = 'daily'),
    '13'::jsonb,
    'a rerun replaces the metrics'
);
DELETE FROM resonance.daily_activity WHERE discord_user_id = 'late';

-- Week and month edges: Saturday 05-30 closes neither; Monday 06-01 neither; Sunday 06-07 the week.
SELECT is(resonance.snapshot_kpis('2026-05-30'), 1, 'Saturday: daily snapshot');
SELECT is(
    (SELECT count(*)::integer FROM public.discord_kpi_snapshots WHERE snapshot_date = '2026-05-30'), 1,
    'Saturday: no weekly and no monthly snapshot'
);
SELECT is(resonance.snapshot_kpis('2026-06-01'), 1, 'Monday 06-01: daily snapshot');
SELECT is(
    (SELECT array_agg(snapshot_type) FROM public.discord_kpi_snapshots WHERE snapshot_date = '2026-06-01'), ARRAY['daily'],
    'the 1st gets a daily snapshot only (the month closes on its last day)'
);
SELECT is(
    (SELECT metrics -> 'weekly_active_users' FROM public.discord_kpi_snapshots WHERE snapshot_date = '2026-06-01'),
    '13'::jsonb,
    'on 06-01 the 7-day window 05-26..06-01 still holds the 13'
);
SELECT is(resonance.snapshot_kpis('2026-06-07'), 1, 'Sunday 06-07');
SELECT is(
    (SELECT metrics -> 'weekly_active_users' FROM public.discord_kpi_snapshots WHERE snapshot_date = '2026-06-01' AND snapshot_type = 'weekly'),
    '0'::jsonb,
    'Sunday 06-07 closes the week of Monday 06-01, which nobody was active in'
);
SELECT is(
    (SELECT (metrics ->> 'churn_rate')::numeric FROM public.discord_kpi_snapshots WHERE snapshot_date = '2026-06-01' AND snapshot_type = 'weekly'),
    1::numeric,
    'and everyone active the week before churned'
);

-- Backfill: every day of the range; reruns replace.
SELECT is(resonance.backfill_kpis('2026-05-28', '2026-05-31'), 4, 'backfill over 4 days, 1 active server');
SELECT is(resonance.backfill_kpis('2026-05-28', '2026-05-31'), 4, 'backfill rerun');
SELECT is(
    (SELECT count(*)::integer FROM public.discord_kpi_snapshots WHERE snapshot_date BETWEEN '2026-05-25' AND '2026-05-31'), 5,
    'after backfill reruns: 4 daily (05-28..05-31) + 1 weekly (dated 05-25), each once'
);
SELECT throws_ok($$SELECT resonance.backfill_kpis('2026-05-31', '2026-05-01')$$, 'RS504', NULL, 'an inverted backfill range raises RS504');
SELECT throws_ok($$SELECT resonance.backfill_kpis('2025-01-01', '2026-05-01')$$, 'RS504', NULL, 'a backfill over a year raises RS504');

-- Targets.
SELECT throws_ok($$SELECT resonance.set_kpi_target('nope', 'churn_rate', 0.1)$$, 'RS001', NULL, 'unknown server RS001');
SELECT throws_ok($$SELECT resonance.set_kpi_target('k1', 'happiness', 0.1)$$, 'RS501', NULL, 'unknown metric RS501');
SELECT throws_ok($$SELECT resonance.set_kpi_target('k1', 'churn_rate', 0.1, 'year')$$, 'RS502', NULL, 'unknown period RS502');
SELECT throws_ok($$SELECT resonance.set_kpi_target('k1', 'churn_rate', NULL)$$, 'RS503', NULL, 'no target value RS503');
SELECT is(
    resonance.set_kpi_target('k1', 'daily_active_users', 20, 'day', 10) ->> 'alert_threshold', '10',
    'set_kpi_target creates the target'
);
SELECT is(
    resonance.set_kpi_target('k1', 'daily_active_users', 20, 'day', 15) ->> 'alert_threshold', '15',
    'set_kpi_target again updates it'
);
SELECT is((SELECT count(*)::integer FROM public.discord_kpi_configs WHERE server_id = 'k1'), 1, 'one row per server, metric and period');
SELECT lives_ok($$SELECT resonance.set_kpi_target('k1', 'churn_rate', 0.2, 'week', 0.4)$$, 'churn target, weekly');
SELECT lives_ok($$SELECT resonance.set_kpi_target('k1', 'top_10_concentration', 0.5, 'month', 0.9)$$, 'concentration target, monthly');
SELECT lives_ok($$SELECT resonance.set_kpi_target('k1', 'voice_participation', 0.2, 'day', 0.05)$$, 'voice target, daily (not breached)');
SELECT lives_ok($$SELECT resonance.set_kpi_target('k1', 'weekly_active_users', 50, 'day')$$, 'a target without threshold alerts when the target is missed');
SELECT lives_ok($$SELECT resonance.set_kpi_target('k1', 'streak_retention', 0.9, 'day', 0.99, FALSE)$$, 'an inactive target never alerts');

-- Alerts need a channel: the alert channel, the report channel or the system channel (none here yet).
SELECT is(
    resonance.set_kpi_target('k1', 'churn_rate', 0.2, 'week', 0.4) ->> 'alerts_via', 'none',
    'set_kpi_target says when its alerts have nowhere to go');
SELECT is(resonance.check_kpi_alerts('2026-05-31'), 0, 'no channel at all: no alert');
SELECT throws_ok($$SELECT resonance.set_report_schedule('k1', 'hourly', 'c1')$$, 'RS506', NULL, 'unknown frequency RS506');
SELECT throws_ok($$SELECT resonance.set_report_schedule('k1', 'weekly', 'c1')$$, 'RS507', NULL, 'weekly without day_of_week RS507');
SELECT throws_ok($$SELECT resonance.set_report_schedule('k1', 'weekly', 'c1', 7)$$, 'RS507', NULL, 'day_of_week 7 RS507');
SELECT throws_ok($$SELECT resonance.set_report_schedule('k1', 'daily', NULL)$$, 'RS508', NULL, 'no channel RS508');
SELECT is(resonance.set_report_schedule('k1', 'weekly', 'reports-chan', 1) ->> 'channel_id', 'reports-chan', 'report schedule set');

SELECT is(
    resonance.set_kpi_target('k1', 'churn_rate', 0.2, 'week', 0.4) ->> 'alerts_to', 'reports-chan',
    'then set_kpi_target names the report channel');
-- D: DAU 12 < 15 (day), churn 0.5 > 0.4 (week of 05-25), concentration 0.9531 > 0.9 (May); voice 0.0833 >= 0.05;
-- WAU 13 misses its target 50 (no threshold: the target is the bar).
SELECT is(resonance.check_kpi_alerts('2026-05-31'), 4, 'three breached thresholds and one missed target queue four alerts');
SELECT is(resonance.check_kpi_alerts('2026-05-31'), 0, 'a rerun queues nothing more');
-- Saturday 05-30: a new day (DAU 3 < 15, voice 0 < 0.05, WAU < 50) but the same week and month: three new alerts.
SELECT is(resonance.check_kpi_alerts('2026-05-30'), 3, 'the next day alerts for that day only, once per metric and period');
SELECT set_eq(
    $$SELECT dedup_key FROM resonance.outbox WHERE kind = 'send_message'$$,
    ARRAY[
        'kpi_alert:k1:daily_active_users:day:2026-05-31',
        'kpi_alert:k1:daily_active_users:day:2026-05-30',
        'kpi_alert:k1:voice_participation:day:2026-05-30',
        'kpi_alert:k1:weekly_active_users:day:2026-05-31',
        'kpi_alert:k1:weekly_active_users:day:2026-05-30',
        'kpi_alert:k1:churn_rate:week:2026-05-25',
        'kpi_alert:k1:top_10_concentration:month:2026-05-01'
    ],
    'one outbox message per metric and period'
);
SELECT is(
    (SELECT array_agg(DISTINCT payload ->> 'channel_id') FROM resonance.outbox), ARRAY['reports-chan'],
    'alerts go to the report channel'
);
SELECT is(
    (SELECT (payload ->> 'value')::numeric FROM resonance.outbox WHERE dedup_key = 'kpi_alert:k1:churn_rate:week:2026-05-25'),
    0.5,
    'the alert carries the value'
);
SELECT is(
    (SELECT payload ->> 'target_met' FROM resonance.outbox WHERE dedup_key = 'kpi_alert:k1:weekly_active_users:day:2026-05-31'),
    'false', 'the alert says the target was missed');
-- Without a report schedule the server's system channel (or a configured alert channel) takes them.
INSERT INTO public.discord_server_configs (server_id, brand_id, config_metadata) VALUES ('k3', 'b1', '{"system_channel_id": "sys-3"}');
SELECT is(
    resonance.set_kpi_target('k3', 'daily_active_users', 5, 'day') ->> 'alerts_via', 'system_channel',
    'a server without report schedule: alerts go to its system channel');
UPDATE public.discord_server_configs SET config_metadata = config_metadata || '{"kpi_alerts": {"channel_id": "alerts-3"}}' WHERE server_id = 'k3';
SELECT is(
    resonance.set_kpi_target('k3', 'daily_active_users', 5, 'day') ->> 'alerts_to', 'alerts-3',
    'a configured alert channel wins');
SELECT is(resonance.snapshot_kpis('2026-05-29'), 2, 'snapshot both active servers');
SELECT is(resonance.check_kpi_alerts('2026-05-29', 'k3'), 1, 'k3''s missed target alerts without any report schedule');
SELECT is(
    (SELECT payload ->> 'channel_id' FROM resonance.outbox WHERE dedup_key = 'kpi_alert:k3:daily_active_users:day:2026-05-29'),
    'alerts-3', 'in the alert channel');

-- Reports.
CREATE TEMP TABLE r AS SELECT resonance.build_report('k1', 'weekly', '2026-05-31') AS j;
SELECT is((SELECT j ->> 'from' FROM r), '2026-05-25', 'weekly report from Monday');
SELECT is((SELECT (j ->> 'active_members')::integer FROM r), 13, 'active members of the week');
SELECT is((SELECT (j ->> 'messages')::integer FROM r), 16, 'messages of the week (alice 5, frank 2, g 9)');
SELECT is((SELECT (j ->> 'voice_minutes')::integer FROM r), 30, 'voice minutes');
SELECT is((SELECT (j ->> 'rsnc_distributed')::numeric FROM r), 128::numeric, 'RSNC distributed');
SELECT is(
    (SELECT j -> 'top_earners' -> 0 FROM r), '{"user_id": "alice", "rsnc_earned": 50}'::jsonb, 'top earner'
);
SELECT is((SELECT jsonb_array_length(j -> 'top_earners') FROM r), 5, 'five top earners');
SELECT is(
    (SELECT j -> 'kpis' -> 'change' -> 'weekly_active_users' FROM r), '9'::jsonb,
    'KPI change against the previous week (13 - 4)'
);
SELECT is((SELECT j -> 'kpis' ->> 'previous_from' FROM r), '2026-05-18', 'previous week');
SELECT is(
    (SELECT resonance.build_report('k1', 'monthly', '2026-05-31') -> 'kpis' ->> 'previous_from'), '2026-04-01',
    'monthly report compares with the previous calendar month'
);
SELECT throws_ok($$SELECT resonance.build_report('k1', 'yearly')$$, 'RS506', NULL, 'unknown report period RS506');

-- Ledger check: recorded even without differences; RS505 without tipping.reconcile().
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc AS p WHERE p.pronamespace = 'tipping'::regnamespace AND p.proname = 'reconcile' LOOP
        EXECUTE format('DROP FUNCTION %s', f);
    END LOOP;
END;
$$;
SELECT throws_ok($$SELECT resonance.check_ledger()$$, 'RS505', NULL, 'check_ledger needs tipping.reconcile()');
CREATE FUNCTION tipping.reconcile()
RETURNS TABLE (user_id text, currency text, balance numeric, ledger_sum numeric)
LANGUAGE sql
AS $$ VALUES ('u1', 'RSNC', 10::numeric, 8::numeric), ('u2', 'RSNC', 1::numeric, 0::numeric) $$;
SELECT is(resonance.check_ledger(), 2, 'check_ledger returns the number of differences');
SELECT is(
    (SELECT details -> 0 ->> 'user_id' FROM resonance.ledger_checks ORDER BY id DESC LIMIT 1), 'u1',
    'and records them'
);

SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc AS p
      WHERE p.pronamespace = 'resonance'::regnamespace
        AND p.proname IN ('kpi_metrics', 'compute_kpis_for_period', 'compute_kpis', 'snapshot_kpis', 'backfill_kpis',
                          'set_kpi_target', 'check_kpi_alerts', 'set_report_schedule', 'report_due_since', 'build_report',
                          'due_reports', 'queue_due_reports', 'check_ledger')
        AND (has_function_privilege('anon', p.oid, 'EXECUTE') OR has_function_privilege('authenticated', p.oid, 'EXECUTE')
             OR NOT has_function_privilege('service_role', p.oid, 'EXECUTE')
             OR p.prosecdef OR NOT coalesce(p.proconfig @> ARRAY['search_path=""'], FALSE))$$,
    'every KPI/report function: service_role only, not SECURITY DEFINER, search_path pinned'
);

SELECT * FROM finish();
ROLLBACK;
