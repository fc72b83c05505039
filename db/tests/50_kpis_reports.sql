-- Scheduled reports: which schedules are due when (UTC days; weekly day_of_week 0 = Sunday; monthly
-- on the 1st), across week and month edges, and what a claim stamps and returns. Concurrency of
-- due_reports is proven in tests/test_kpis_reports.py with real parallel connections.
-- 2026-05-30 is a Saturday, 05-31 a Sunday, 06-01 a Monday.
BEGIN;
\ir helpers/setup.psql
SELECT plan(24);

INSERT INTO public.discord_server_configs (server_id, brand_id, is_active) VALUES
('rd', 'b', TRUE), ('rw0', 'b', TRUE), ('rw6', 'b', TRUE), ('rm', 'b', TRUE), ('rx', 'b', TRUE), ('ry', 'b', FALSE);
CREATE TEMP TABLE schedules AS
SELECT resonance.set_report_schedule(v.server_id, v.frequency, v.channel_id, v.day_of_week, v.is_active) AS s
FROM (VALUES
    ('rd', 'daily', 'c-rd', NULL::integer, TRUE),
    ('rw0', 'weekly', 'c-rw0', 0, TRUE),
    ('rw6', 'weekly', 'c-rw6', 6, TRUE),
    ('rm', 'monthly', 'c-rm', NULL, TRUE),
    ('rx', 'daily', 'c-rx', NULL, FALSE),
    ('ry', 'daily', 'c-ry', NULL, TRUE)
) AS v (server_id, frequency, channel_id, day_of_week, is_active);

SELECT is(resonance.report_due_since('weekly', 0, '2026-06-03'), '2026-05-31'::date, 'weekly Sunday: the latest Sunday');
SELECT is(resonance.report_due_since('weekly', 3, '2026-06-03'), '2026-06-03'::date, 'weekly Wednesday on a Wednesday: today');
SELECT is(resonance.report_due_since('weekly', 4, '2026-06-03'), '2026-05-28'::date, 'weekly Thursday on a Wednesday: last week''s');
SELECT is(resonance.report_due_since('monthly', NULL, '2026-06-03'), '2026-06-01'::date, 'monthly: the 1st');
SELECT is(resonance.report_due_since('daily', NULL, '2026-06-03'), '2026-06-03'::date, 'daily: today');

SELECT set_eq(
    $$SELECT server_id FROM resonance.due_reports('2026-05-30 10:00+00', 'w1')$$, ARRAY['rd', 'rw6'],
    'Saturday: the daily and the Saturday report (never sent: due on its day); not the inactive ones'
);
SELECT is(
    (SELECT last_sent_by FROM public.discord_report_schedules WHERE server_id = 'rw6'), 'w1', 'the claim names the worker'
);
SELECT is(
    (SELECT last_sent_at FROM public.discord_report_schedules WHERE server_id = 'rw6'), '2026-05-30 10:00+00'::timestamptz,
    'and stamps last_sent_at = p_now'
);
SELECT is_empty($$SELECT * FROM resonance.due_reports('2026-05-30 23:59:59+00', 'w2')$$, 'the same day again: nothing due');
SELECT set_eq(
    $$SELECT server_id FROM resonance.due_reports('2026-05-31 00:00+00', 'w1')$$, ARRAY['rd', 'rw0'],
    'Sunday midnight: the daily and the Sunday report'
);
SELECT set_eq(
    $$SELECT server_id FROM resonance.due_reports('2026-06-01 00:00+00', 'w1')$$, ARRAY['rd', 'rm'],
    'Monday the 1st: the daily and the monthly report'
);
SELECT set_eq(
    $$SELECT server_id FROM resonance.due_reports('2026-06-08 12:00+00', 'w1')$$, ARRAY['rd', 'rw0', 'rw6'],
    'a week later (the bot was down): both weekly reports catch up once, the monthly one is done'
);
SELECT is_empty($$SELECT * FROM resonance.due_reports('2026-06-08 12:05+00', 'w2')$$, 'caught up: nothing more');

-- Month and year edge: the monthly report of December goes out on January 1st.
SELECT set_eq(
    $$SELECT server_id FROM resonance.due_reports('2026-12-31 08:00+00', 'w1')$$, ARRAY['rd', 'rw0', 'rw6', 'rm'],
    'months later everything catches up once (12-31 is a Thursday)'
);
CREATE TEMP TABLE jan AS SELECT * FROM resonance.due_reports('2027-01-01 00:00:01+00', 'w1');
SELECT set_eq($$SELECT server_id FROM jan$$, ARRAY['rd', 'rm'], 'January 1st: daily and monthly');
SELECT is((SELECT due_since FROM jan WHERE server_id = 'rm'), '2027-01-01'::date, 'due since the 1st');
SELECT is((SELECT channel_id FROM jan WHERE server_id = 'rm'), 'c-rm', 'with the channel');
SELECT is((SELECT report ->> 'period' FROM jan WHERE server_id = 'rm'), 'monthly', 'the monthly report');
SELECT is((SELECT report ->> 'from' FROM jan WHERE server_id = 'rm'), '2026-12-01', 'covers December from the 1st');
SELECT is((SELECT report ->> 'to' FROM jan WHERE server_id = 'rm'), '2026-12-31', 'to the 31st');
SELECT is((SELECT report -> 'kpis' ->> 'previous_from' FROM jan WHERE server_id = 'rm'), '2026-11-01', 'compared with November');
SELECT is((SELECT report ->> 'from' FROM jan WHERE server_id = 'rd'), '2026-12-31', 'the daily report covers yesterday');

-- p_limit bounds one claim.
SELECT is(
    (SELECT count(*)::integer FROM resonance.due_reports('2027-01-03 09:00+00', 'w1', 1)), 1,
    'p_limit 1 claims one of the two due (daily, Sunday)'
);
SELECT is(
    (SELECT count(*)::integer FROM resonance.due_reports('2027-01-03 09:00+00', 'w1', 1)), 1,
    'the next call claims the other'
);

SELECT * FROM finish();
ROLLBACK;
