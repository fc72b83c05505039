-- Verifications (terms accepted + wallet proven) and trust badges (a reputation score computed
-- from ledger facts). Minting the badge NFT happens outside the database (resonance.wallet's
-- BadgeMinter); only a real mint address is ever recorded.

CREATE OR REPLACE FUNCTION tipping.accept_terms(
    p_discord_id text,
    p_terms_version text,
    p_discord_username text DEFAULT NULL,
    p_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_wallet text;
    v_row tipping.verifications%ROWTYPE;
    v_status text := 'accepted';
BEGIN
    IF p_discord_id IS NULL OR btrim(p_discord_id) = '' THEN
        RAISE EXCEPTION 'accepting terms needs a member' USING ERRCODE = 'RT006';
    END IF;
    IF p_terms_version IS NULL OR btrim(p_terms_version) = '' THEN
        RAISE EXCEPTION 'a terms version is required' USING ERRCODE = 'RT020';
    END IF;

    INSERT INTO tipping.users (user_id) VALUES (p_discord_id) ON CONFLICT (user_id) DO NOTHING;
    SELECT w.wallet_address INTO v_wallet FROM tipping.wallet_registrations AS w WHERE w.discord_user_id = p_discord_id;

    INSERT INTO tipping.verifications AS v (discord_id, discord_username, wallet_address, terms_version, "timestamp", verified)
    VALUES (p_discord_id, p_discord_username, v_wallet, p_terms_version, v_at, v_wallet IS NOT NULL)
    ON CONFLICT (discord_id) DO UPDATE
    SET terms_version = excluded.terms_version,
        "timestamp" = excluded."timestamp",
        discord_username = coalesce(excluded.discord_username, v.discord_username),
        wallet_address = excluded.wallet_address,
        verified = excluded.verified
    WHERE v.terms_version IS DISTINCT FROM excluded.terms_version
    RETURNING v.* INTO v_row;

    IF v_row.id IS NULL THEN
        SELECT v.* INTO v_row FROM tipping.verifications AS v WHERE v.discord_id = p_discord_id;
        v_status := 'already_accepted';
    END IF;

    RETURN jsonb_build_object(
        'status', v_status,
        'discord_id', v_row.discord_id,
        'terms_version', v_row.terms_version,
        'accepted_at', v_row."timestamp",
        'wallet_address', v_row.wallet_address,
        'verified', v_row.verified
    );
END;
$$;

COMMENT ON FUNCTION tipping.accept_terms(text, text, text, timestamptz) IS
'Records that a member accepted p_terms_version at p_at (default now()): status accepted, or already_accepted for the same version again (nothing changes). verified = terms accepted and a wallet registered. Raises RT006 (no member), RT020 (no terms version).';

REVOKE ALL ON FUNCTION tipping.accept_terms(text, text, text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.accept_terms(text, text, text, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION tipping.reputation_score(
    p_tips_sent bigint,
    p_tips_received bigint,
    p_counterparties bigint,
    p_account_age_days numeric,
    p_verified boolean
)
RETURNS numeric
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT round(
        least(25, 5 * ln(1 + greatest(coalesce(p_tips_sent, 0), 0)::numeric))
        + least(25, 5 * ln(1 + greatest(coalesce(p_tips_received, 0), 0)::numeric))
        + least(25, 2.5 * greatest(coalesce(p_counterparties, 0), 0))
        + least(15, greatest(coalesce(p_account_age_days, 0), 0) / 12)
        + CASE WHEN coalesce(p_verified, FALSE) THEN 10 ELSE 0 END,
        2
    )
$$;

COMMENT ON FUNCTION tipping.reputation_score(bigint, bigint, bigint, numeric, boolean) IS
'The documented reputation formula (docs/ledger.md), 0..100: min(25, 5 ln(1+tips sent)) + min(25, 5 ln(1+tips received)) + min(25, 2.5 x distinct counterparties) + min(15, account age days / 12) + 10 if verified; rounded to 2 decimals.';

REVOKE ALL ON FUNCTION tipping.reputation_score(bigint, bigint, bigint, numeric, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.reputation_score(bigint, bigint, bigint, numeric, boolean) TO service_role;

CREATE OR REPLACE FUNCTION tipping.recompute_trust_badge(p_discord_id text, p_at timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_member_since timestamptz;
    v_sent bigint;
    v_received bigint;
    v_counterparties bigint;
    v_age_days numeric;
    v_verified boolean;
    v_wallet text;
    v_username text;
    v_score numeric;
    v_badge tipping.trust_badges%ROWTYPE;
BEGIN
    SELECT u.created_at INTO v_member_since FROM tipping.users AS u WHERE u.user_id = p_discord_id;
    IF v_member_since IS NULL THEN
        RAISE EXCEPTION 'unknown member %', coalesce(p_discord_id, 'NULL') USING ERRCODE = 'RT006';
    END IF;

    SELECT
        count(*) FILTER (WHERE t.sender_id = p_discord_id),
        count(*) FILTER (WHERE t.recipient_id = p_discord_id),
        count(DISTINCT CASE WHEN t.sender_id = p_discord_id THEN t.recipient_id ELSE t.sender_id END)
    INTO v_sent, v_received, v_counterparties
    FROM tipping.transactions AS t
    WHERE t.transaction_type = 'tip'
        AND t.status = 'completed'
        AND t.created_at <= v_at
        AND (t.sender_id = p_discord_id OR t.recipient_id = p_discord_id);

    v_age_days := greatest(extract(EPOCH FROM v_at - v_member_since) / 86400, 0);

    SELECT coalesce(v.verified, FALSE), v.discord_username INTO v_verified, v_username
    FROM tipping.verifications AS v WHERE v.discord_id = p_discord_id;
    v_verified := coalesce(v_verified, FALSE);
    SELECT w.wallet_address, coalesce(v_username, w.discord_username) INTO v_wallet, v_username
    FROM tipping.wallet_registrations AS w WHERE w.discord_user_id = p_discord_id;

    v_score := tipping.reputation_score(v_sent, v_received, v_counterparties, v_age_days, v_verified);

    INSERT INTO tipping.trust_badges AS b (discord_id, wallet_address, reputation_score, discord_username)
    VALUES (p_discord_id, v_wallet, v_score, v_username)
    ON CONFLICT (discord_id) DO UPDATE
    SET reputation_score = excluded.reputation_score,
        wallet_address = coalesce(excluded.wallet_address, b.wallet_address),
        discord_username = coalesce(excluded.discord_username, b.discord_username)
    RETURNING b.* INTO v_badge;

    RETURN jsonb_build_object(
        'discord_id', p_discord_id,
        'reputation_score', v_badge.reputation_score,
        'tips_sent', v_sent,
        'tips_received', v_received,
        'counterparties', v_counterparties,
        'account_age_days', round(v_age_days, 2),
        'verified', v_verified,
        'wallet_address', v_badge.wallet_address,
        'mint_address', v_badge.mint_address
    );
END;
$$;

COMMENT ON FUNCTION tipping.recompute_trust_badge(text, timestamptz) IS
'Recomputes a member''s trust badge from ledger facts at p_at (default now()): completed tips sent and received, distinct tip counterparties, days since the member joined the ledger, verification; stores reputation_score (tipping.reputation_score) and returns the facts with the score. Never touches mint_address. Raises RT006 for an unknown member.';

REVOKE ALL ON FUNCTION tipping.recompute_trust_badge(text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.recompute_trust_badge(text, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION tipping.record_badge_mint(p_discord_id text, p_mint_address text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_badge tipping.trust_badges%ROWTYPE;
BEGIN
    IF NOT tipping.is_solana_address(p_mint_address) THEN
        RAISE EXCEPTION 'not a Solana address: %', coalesce(p_mint_address, 'NULL') USING ERRCODE = 'RT010';
    END IF;
    SELECT b.* INTO v_badge FROM tipping.trust_badges AS b WHERE b.discord_id = p_discord_id FOR UPDATE;
    IF v_badge.id IS NULL THEN
        RAISE EXCEPTION 'member % has no trust badge (recompute_trust_badge first)', coalesce(p_discord_id, 'NULL')
            USING ERRCODE = 'RT021';
    END IF;
    IF v_badge.mint_address = p_mint_address THEN
        RETURN jsonb_build_object('status', 'already_recorded', 'discord_id', p_discord_id, 'mint_address', p_mint_address);
    ELSIF v_badge.mint_address IS NOT NULL THEN
        RAISE EXCEPTION 'the badge of % was already minted as %', p_discord_id, v_badge.mint_address USING ERRCODE = 'RT022';
    END IF;
    UPDATE tipping.trust_badges AS b SET mint_address = p_mint_address WHERE b.id = v_badge.id;
    UPDATE tipping.verifications AS v SET nft_mint_address = p_mint_address WHERE v.discord_id = p_discord_id;
    RETURN jsonb_build_object('status', 'recorded', 'discord_id', p_discord_id, 'mint_address', p_mint_address);
END;
$$;

COMMENT ON FUNCTION tipping.record_badge_mint(text, text) IS
'Records the mint address a real BadgeMinter returned for a member''s trust badge (and on the verification): status recorded or already_recorded. Raises RT010 (not a Solana address), RT021 (no badge), RT022 (badge already minted under another address).';

REVOKE ALL ON FUNCTION tipping.record_badge_mint(text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.record_badge_mint(text, text) TO service_role;


CREATE OR REPLACE FUNCTION tipping.verification_status(p_discord_id text)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_row tipping.verifications%ROWTYPE;
    v_wallet text;
BEGIN
    IF p_discord_id IS NULL OR btrim(p_discord_id) = '' THEN
        RAISE EXCEPTION 'a verification status needs a member' USING ERRCODE = 'RT006';
    END IF;
    SELECT v.* INTO v_row FROM tipping.verifications AS v WHERE v.discord_id = p_discord_id;
    SELECT w.wallet_address INTO v_wallet FROM tipping.wallet_registrations AS w WHERE w.discord_user_id = p_discord_id;
    RETURN jsonb_build_object(
        'status', CASE WHEN v_row.id IS NULL THEN 'not_accepted' WHEN v_row.verified THEN 'verified' ELSE 'accepted' END,
        'discord_id', p_discord_id,
        'terms_version', v_row.terms_version,
        'accepted_at', v_row."timestamp",
        'wallet_address', coalesce(v_row.wallet_address, v_wallet),
        'verified', coalesce(v_row.verified, FALSE)
    );
END;
$$;

COMMENT ON FUNCTION tipping.verification_status(text) IS
'What /terms shows a member: {"status": not_accepted | accepted (terms, no wallet) | verified (terms and a wallet), terms_version, accepted_at, wallet_address, verified}. Raises RT006 (no member).';

REVOKE ALL ON FUNCTION tipping.verification_status(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.verification_status(text) TO service_role;
