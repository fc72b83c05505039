-- Shared trigger functions.

CREATE OR REPLACE FUNCTION resonance.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION resonance.touch_updated_at() IS 'Trigger: stamps updated_at on every UPDATE. Attached to every table of our schemas that has an updated_at column.';

REVOKE ALL ON FUNCTION resonance.touch_updated_at() FROM public;

-- Attach to every table with an updated_at column, including tables that later migrations add.
DO $$
DECLARE
    target record;
BEGIN
    FOR target IN
        SELECT c.table_schema, c.table_name
        FROM information_schema.columns AS c
        INNER JOIN information_schema.tables AS t
            ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.column_name = 'updated_at'
            AND t.table_type = 'BASE TABLE'
            AND c.table_schema IN ('public', 'resonance', 'tipping', 'analytics')
    LOOP
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER touch_updated_at BEFORE UPDATE ON %I.%I '
            'FOR EACH ROW EXECUTE FUNCTION resonance.touch_updated_at()',
            target.table_schema, target.table_name
        );
    END LOOP;
END;
$$;
