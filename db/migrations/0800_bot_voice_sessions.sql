-- Open voice sessions, so a bot restart (or a second replica) credits every minute exactly once.

CREATE TABLE resonance.voice_sessions (
    session_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    server_id text NOT NULL,
    discord_user_id text NOT NULL,
    channel_id text NOT NULL,
    role_ids text [] NOT NULL DEFAULT '{}',
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    CONSTRAINT voice_session_ends_after_start CHECK (ended_at IS NULL OR ended_at >= started_at)
);

CREATE UNIQUE INDEX idx_voice_sessions_one_open
ON resonance.voice_sessions (server_id, discord_user_id) WHERE ended_at IS NULL;

CREATE INDEX idx_voice_sessions_server ON resonance.voice_sessions (server_id, ended_at);

COMMENT ON TABLE resonance.voice_sessions IS 'Voice sessions the bot has seen start and not yet credited: open (ended_at NULL, at most one per member and server) or ended and waiting for record_voice. Deleted once credited.';
COMMENT ON COLUMN resonance.voice_sessions.session_id IS 'Passed to resonance.record_voice as p_session_id, whose idempotency makes a re-credit after a crash harmless.';
COMMENT ON COLUMN resonance.voice_sessions.ended_at IS 'Set once, by the one caller whose guarded UPDATE wins; the session is then credited.';
