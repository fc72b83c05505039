-- A burst of 10 messages (10 of 1,000 members, unique content) in one resonance.record_messages call.
\set m random(1, 1000000000000)
SELECT resonance.record_messages(jsonb_agg(jsonb_build_object(
    'server_id', 'bench', 'user_id', 'member' || (1 + (:m::bigint * 7 + g * 101) % 1000), 'channel_id', 'general',
    'message_id', 'burst' || :m::text || ':' || g,
    'content', 'thoughts on ' || md5(:m::text || g) || ' and ' || md5((:m::bigint + g + 7)::text))))
FROM generate_series(1, 10) AS g;
