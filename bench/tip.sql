-- A tip between two of 1,000 members (never to oneself).
\set s random(1, 1000)
\set r 1 + ((:s - 1 + random(1, 999)) % 1000)
SELECT tipping.tip('tipper' || :s::text, 'tipper' || :r::text, 0.01, 'RSNC', 'bench');
