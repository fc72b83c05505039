-- The bot at the Discord edge: voice checkpoints (only observed time is credited), one answer per
-- interaction (idempotency by interaction id), and bounds on the amounts admins type.

ALTER TABLE resonance.voice_sessions ADD COLUMN checkpoint_at timestamptz;

COMMENT ON COLUMN resonance.voice_sessions.checkpoint_at IS 'The last time the bot saw this session still open (resonance.voice_checkpoint, every minute). After a restart a session whose member left while the bot was away ends here, not at the restart.';

-- voice_sessions_pending gains checkpoint_at in its result (a new row type: drop, then db/functions
-- recreates it; its one caller is the bot, which this change updates).
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS resonance.voice_sessions_pending(text);

CREATE TABLE resonance.bot_interactions (
    interaction_id text PRIMARY KEY,
    server_id text,
    command text NOT NULL,
    result jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_bot_interactions_created ON resonance.bot_interactions (created_at);

COMMENT ON TABLE resonance.bot_interactions IS 'State-changing slash commands by Discord interaction id, claimed in the transaction that acts: a retried call (or a second delivery) finds the claim and gets the stored result instead of acting twice. Rows older than a day are pruned by resonance.voice_checkpoint.';
COMMENT ON COLUMN resonance.bot_interactions.result IS 'What the command answered (jsonb), returned to a retry; NULL until the acting transaction stores it.';

-- Amounts an admin types are bounded where they are stored (a reward of 2^53 once overflowed every later
-- message). NOT VALID here, validated by 1401 in its own transaction.
ALTER TABLE public.monitoring_rules ADD CONSTRAINT monitoring_rules_reward_amount_bounded
CHECK (reward_amount IS NULL OR (reward_amount >= 0 AND reward_amount <= 1000000)) NOT VALID;

ALTER TABLE public.monitoring_rules ADD CONSTRAINT monitoring_rules_cooldown_bounded
CHECK (cooldown_hours IS NULL OR cooldown_hours <= 8760) NOT VALID;

ALTER TABLE public.discord_drops ADD CONSTRAINT discord_drops_reward_amount_bounded
CHECK (reward_amount IS NULL OR reward_amount <= 1000000) NOT VALID;

ALTER TABLE public.discord_drops ADD CONSTRAINT discord_drops_max_claims_bounded
CHECK (max_claims IS NULL OR max_claims <= 100000) NOT VALID;
