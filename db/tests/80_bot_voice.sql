-- The bot's voice sessions: one open per member, one winner on leave, forget once credited.
BEGIN;
\ir helpers/setup.psql
SELECT plan(11);

SELECT has_table('resonance', 'voice_sessions', 'resonance.voice_sessions exists');

SELECT function_privs_are(
    'resonance', 'voice_session_leave', ARRAY['text', 'text', 'timestamp with time zone'], 'anon', ARRAY[]::text [],
    'anon cannot end voice sessions'
);
SELECT function_privs_are(
    'resonance', 'voice_session_leave', ARRAY['text', 'text', 'timestamp with time zone'], 'service_role',
    ARRAY['EXECUTE'], 'service_role can end voice sessions'
);

CREATE TEMP TABLE s ON COMMIT DROP AS
SELECT resonance.voice_session_join('g1', 'u1', 'v1', ARRAY['r1'], '2026-03-01 12:00+00') AS id;

SELECT is(
    resonance.voice_session_join('g1', 'u1', 'v2', '{}', '2026-03-01 12:05+00'), (SELECT id FROM s),
    'joining again keeps the open session'
);
SELECT is(
    (SELECT started_at FROM resonance.voice_sessions), '2026-03-01 12:00+00'::timestamptz,
    'the first start is kept'
);

SELECT results_eq(
    $$SELECT session_id, channel_id, ended_at FROM resonance.voice_session_leave('g1', 'u1', '2026-03-01 12:30+00')$$,
    $$SELECT id, 'v1'::text, '2026-03-01 12:30+00'::timestamptz FROM s$$,
    'leave ends the session and returns it'
);
SELECT is_empty(
    $$SELECT * FROM resonance.voice_session_leave('g1', 'u1', '2026-03-01 12:31+00')$$,
    'a second leave finds nothing open'
);
SELECT is(
    (SELECT count(*)::int FROM resonance.voice_sessions_pending('g1')), 1,
    'the ended session waits to be credited'
);
SELECT ok(resonance.voice_session_credited((SELECT id FROM s)), 'credited: forgotten');
SELECT ok(NOT resonance.voice_session_credited((SELECT id FROM s)), 'credited twice: already forgotten');
SELECT is_empty(
    $$SELECT * FROM resonance.voice_session_leave('g1', 'nobody', NULL)$$,
    'leaving without a session returns nothing'
);

SELECT * FROM finish();
ROLLBACK;
