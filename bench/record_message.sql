-- A message from one of 1,000 members, with content unlike the others (no anti-farming shortcut).
\set u random(1, 1000)
\set m random(1, 1000000000000)
SELECT resonance.record_message('bench', 'member' || :u::text, 'general', 'msg' || :m::text, 'thoughts on ' || md5(:m::text) || ' and ' || md5((:m::bigint + 7)::text));
