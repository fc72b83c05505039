-- The tipping ledger (JustTheTip's schema) in schema tipping. Money is NUMERIC(20,8).

CREATE TABLE tipping.currencies (
    code text PRIMARY KEY CHECK (code ~ '^[A-Z0-9]{2,12}$'),
    decimals integer NOT NULL DEFAULT 8 CHECK (decimals BETWEEN 0 AND 8),
    is_active boolean NOT NULL DEFAULT TRUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE tipping.currencies IS 'Currencies the ledger accepts; amounts may carry at most `decimals` decimal places.';

INSERT INTO tipping.currencies (code, decimals) VALUES ('RSNC', 8);

CREATE TABLE tipping.users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_users_user_id ON tipping.users (user_id);

COMMENT ON TABLE tipping.users IS 'A Discord member known to the ledger.';
COMMENT ON COLUMN tipping.users.user_id IS 'The Discord user id.';

CREATE TABLE tipping.balances (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id text NOT NULL REFERENCES tipping.users (user_id),
    currency text NOT NULL REFERENCES tipping.currencies (code),
    amount numeric(20, 8) NOT NULL DEFAULT 0 CHECK (amount >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT unique_balance_per_currency UNIQUE (user_id, currency)
);

COMMENT ON TABLE tipping.balances IS 'One spendable balance per member and currency; never negative; always equal to the sum of its ledger movements.';

CREATE TABLE tipping.transactions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    transaction_type text NOT NULL CHECK (transaction_type IN ('mint', 'reward', 'tip', 'purchase', 'burn', 'adjustment')),
    sender_id text REFERENCES tipping.users (user_id),
    recipient_id text REFERENCES tipping.users (user_id),
    amount numeric(20, 8) NOT NULL CHECK (amount > 0),
    currency text NOT NULL REFERENCES tipping.currencies (code),
    status text NOT NULL DEFAULT 'completed' CHECK (status IN ('pending', 'completed', 'failed', 'reversed')),
    brand_id text,
    server_id text,
    reason text,
    idempotency_key text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transaction_has_a_side CHECK (sender_id IS NOT NULL OR recipient_id IS NOT NULL)
);

CREATE INDEX idx_transactions_created_at ON tipping.transactions (created_at);

CREATE INDEX idx_transactions_sender ON tipping.transactions (sender_id, currency);

CREATE INDEX idx_transactions_recipient ON tipping.transactions (recipient_id, currency);

COMMENT ON TABLE tipping.transactions IS 'Every movement of money. sender NULL = issued (mint/reward); recipient NULL = taken out of circulation (purchase/burn).';
COMMENT ON COLUMN tipping.transactions.brand_id IS 'Added: the brand that issued a reward or received a purchase.';
COMMENT ON COLUMN tipping.transactions.idempotency_key IS 'Added: a replayed call with the same key returns the first transaction and moves nothing.';

CREATE TABLE tipping.tips (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sender text NOT NULL,
    receiver text NOT NULL,
    amount numeric(20, 8) NOT NULL CHECK (amount > 0),
    currency text NOT NULL,
    signature text,
    server_id text,
    transaction_id uuid REFERENCES tipping.transactions (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT no_self_tip CHECK (sender <> receiver)
);

CREATE INDEX idx_tips_created_at ON tipping.tips (created_at);

CREATE INDEX idx_tips_sender ON tipping.tips (sender);

CREATE INDEX idx_tips_receiver ON tipping.tips (receiver);

COMMENT ON TABLE tipping.tips IS 'Tips between members (Discord ids); the money moved is its transaction.';
COMMENT ON COLUMN tipping.tips.signature IS 'Blockchain signature when the tip settled on chain.';
COMMENT ON COLUMN tipping.tips.server_id IS 'Added: the server where the tip happened.';

CREATE TABLE tipping.trust_badges (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    discord_id text NOT NULL UNIQUE,
    wallet_address text,
    mint_address text,
    reputation_score numeric(10, 2) NOT NULL DEFAULT 0,
    discord_username text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_trust_badges_discord_id ON tipping.trust_badges (discord_id);

CREATE INDEX idx_trust_badges_wallet ON tipping.trust_badges (wallet_address);

COMMENT ON TABLE tipping.trust_badges IS 'Reputation per member; mint_address stays NULL until a real NFT minter has minted the badge.';

CREATE TABLE tipping.wallet_registrations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    discord_user_id text NOT NULL UNIQUE,
    discord_username text,
    wallet_address text NOT NULL UNIQUE,
    verified_at timestamptz NOT NULL DEFAULT now(),
    nonce text,
    message_data jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_wallet_reg_discord_user ON tipping.wallet_registrations (discord_user_id);

CREATE INDEX idx_wallet_reg_wallet_addr ON tipping.wallet_registrations (wallet_address);

COMMENT ON TABLE tipping.wallet_registrations IS 'Verified Solana wallets: one per member, and a wallet binds to one member.';

CREATE TABLE tipping.registration_nonces (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nonce text NOT NULL UNIQUE,
    discord_user_id text NOT NULL,
    discord_username text,
    used boolean NOT NULL DEFAULT FALSE,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL DEFAULT now() + interval '10 minutes'
);

CREATE INDEX idx_registration_nonces_user ON tipping.registration_nonces (discord_user_id);

CREATE INDEX idx_registration_nonces_expires ON tipping.registration_nonces (expires_at);

COMMENT ON TABLE tipping.registration_nonces IS 'One-use wallet registration challenges; expire after 10 minutes.';
COMMENT ON COLUMN tipping.registration_nonces.expires_at IS 'Added: created_at + 10 minutes, stored so expiry is one indexed comparison.';

CREATE TABLE tipping.verifications (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    discord_id text NOT NULL UNIQUE,
    discord_username text,
    wallet_address text,
    terms_version text,
    "timestamp" timestamptz NOT NULL DEFAULT now(),
    verified boolean NOT NULL DEFAULT FALSE,
    nft_mint_address text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_verifications_nft_mint ON tipping.verifications (nft_mint_address);

COMMENT ON TABLE tipping.verifications IS 'Terms acceptance and wallet proof per member.';
COMMENT ON COLUMN tipping.verifications."timestamp" IS 'When the member accepted terms_version.';

CREATE TABLE tipping.tickets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    discord_id text NOT NULL,
    discord_username text,
    subject text NOT NULL,
    description text,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'resolved', 'closed')),
    priority text NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_tickets_status ON tipping.tickets (status);

CREATE INDEX idx_tickets_discord_id ON tipping.tickets (discord_id);

COMMENT ON TABLE tipping.tickets IS 'Support tickets: open -> in_progress -> resolved/closed, with a priority.';
