-- Audit (issue 16.11): /reports schedule records the acting admin; the old signature goes.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.set_report_schedule(text, text, text, integer, boolean);
