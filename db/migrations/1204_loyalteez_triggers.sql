-- The Loyalteez name normalisation is one trigger function per table (plpgsql_check can then check
-- each against its table); the first, shared one goes, with its triggers, which
-- db/functions/engine_admin.sql recreates on the new functions.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.normalise_loyalteez_names() CASCADE;
