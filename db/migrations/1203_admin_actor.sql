-- Audit (issue 16.11): admin functions take the acting admin (and whether the call is test traffic)
-- and name them on their audit rows; the old signatures go.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.set_actor(text, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.create_milestone(text, text, text, jsonb, integer, text, text, integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.set_kpi_target(text, text, numeric, text, numeric, boolean);
