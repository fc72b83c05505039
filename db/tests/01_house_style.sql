-- House style, enforced: every table, view and function of our schemas carries a COMMENT ON,
-- so the catalog documents itself (and a new one without it fails the suite).
BEGIN;
\ir helpers/setup.psql
SELECT plan(2);

SELECT is_empty(
    $$SELECT p.oid::regprocedure::text
      FROM pg_catalog.pg_proc AS p
      WHERE p.pronamespace::regnamespace::text IN ('resonance', 'tipping', 'analytics', 'private')
          AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend AS d WHERE d.objid = p.oid AND d.deptype = 'e')
          AND obj_description(p.oid, 'pg_proc') IS NULL$$,
    'every function of resonance, tipping, analytics and private has a COMMENT'
);

SELECT is_empty(
    $$SELECT c.oid::regclass::text
      FROM pg_catalog.pg_class AS c
      WHERE c.relnamespace::regnamespace::text IN ('public', 'resonance', 'tipping', 'analytics')
          AND c.relkind IN ('r', 'p', 'v', 'm')
          AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend AS d WHERE d.objid = c.oid AND d.deptype = 'e')
          AND obj_description(c.oid, 'pg_class') IS NULL$$,
    'every table and view of public, resonance, tipping and analytics has a COMMENT'
);

SELECT * FROM finish();
ROLLBACK;
