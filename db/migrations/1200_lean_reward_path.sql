-- The lean reward path (issue 18): one money ledger, one event skeleton, drops that decide first
-- and pay right after.

-- 1. A reward decision references its money: resonance.close_event writes the decision row and its
--    tipping.transactions row in one statement (no back-patching UPDATE any more).
ALTER TABLE resonance.reward_ledger
ADD CONSTRAINT reward_ledger_transaction_fkey FOREIGN KEY (transaction_id) REFERENCES tipping.transactions (id) NOT VALID;

COMMENT ON TABLE resonance.reward_ledger IS
'The record of reward DECISIONS, exactly once: idempotency key (server, event type, source id), rule, base and final amount, details. The money is tipping.transactions (the one money ledger): a decision with an amount references its transaction (written in the same statement); tipping.reconcile() compares both.';
COMMENT ON COLUMN resonance.reward_ledger.transaction_id IS
'The tipping.transactions row (type reward, key reward:<id>) that paid this decision; NULL only for a zero amount.';

-- 2. Drops: the decision commits first, the payment follows; paid_at says which claims are paid.
ALTER TABLE public.discord_drop_claims ADD COLUMN paid_at timestamptz;

UPDATE public.discord_drop_claims SET paid_at = coalesce(claimed_at, now()) WHERE paid_at IS NULL;

CREATE INDEX idx_discord_drop_claims_unpaid ON public.discord_drop_claims (claimed_at) WHERE paid_at IS NULL;

COMMENT ON COLUMN public.discord_drop_claims.paid_at IS
'Added: when the decided claim was paid (resonance.pay_drop_claim); NULL = decided, payment pending (the bot pays right after the decision, resonance.pay_unpaid_drop_claims repairs a crash).';

-- 3. Activity means actions (issue 16): the daily rollup counts the member's own actions, apart
--    from rewards (drips, bonuses, achievements are not actions).
ALTER TABLE resonance.daily_activity ADD COLUMN actions integer NOT NULL DEFAULT 0;

UPDATE resonance.daily_activity
SET actions = messages_count + reactions_given + checkins + drops_claimed + CASE WHEN voice_minutes > 0 THEN 1 ELSE 0 END;

COMMENT ON COLUMN resonance.daily_activity.actions IS
'Actions the member took that day: messages, reactions given, voice sessions, check-ins, drop claims, custom events whose rule says rule_metadata.is_action. A member is active on a day when actions > 0; rewards alone (drips, bonuses, achievements, goals) are not activity.';

-- 4. Signatures that changed: the event functions take the channel's name (optional, last), rules
--    are decided by decide_rule and written by close_event; the old ones go.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.record_message(text, text, text, text, text, text [], text, timestamptz);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.record_reaction(text, text, text, text, text, text, text [], timestamptz);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.record_voice(text, text, text, text, integer, text [], timestamptz);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.record_event(text, text, text, text, text [], text, jsonb, timestamptz);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.rule_channel_ok(public.monitoring_rules, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.pay_rule(public.monitoring_rules, text, text, text, timestamptz, jsonb, numeric, jsonb);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.touch_member(text, text, timestamptz, integer, integer, integer, integer, integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.active_server_brand(text);
