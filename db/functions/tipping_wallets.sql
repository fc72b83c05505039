-- Wallet registration, as JustTheTip draws it: a one-use nonce that expires after 10 minutes, the
-- member signs the exact challenge message with a Solana wallet, the Python service
-- (resonance.wallet) verifies the ed25519 signature, then complete_wallet_registration consumes the
-- nonce and binds the wallet. The database enforces everything except the signature itself
-- (Postgres has no ed25519): once, before expiry, only for its member, one wallet per member, one
-- member per wallet.

CREATE OR REPLACE FUNCTION tipping.registration_message(p_discord_user_id text, p_nonce text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT concat_ws(
        E'\n',
        'Resonance wallet registration',
        'Sign this message to link this Solana wallet to Discord user ' || p_discord_user_id || '.',
        'Nonce: ' || p_nonce,
        'This challenge can be used once and expires 10 minutes after it was issued.'
    )
$$;

COMMENT ON FUNCTION tipping.registration_message(text, text) IS
'The exact text a member signs to register a wallet (UTF-8 bytes are what the ed25519 signature covers). Built only here: create_registration_nonce returns it and resonance.wallet verifies against it.';

REVOKE ALL ON FUNCTION tipping.registration_message(text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.registration_message(text, text) TO service_role;

CREATE OR REPLACE FUNCTION tipping.is_solana_address(p_address text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT coalesce(p_address ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$', FALSE)
$$;

COMMENT ON FUNCTION tipping.is_solana_address(text) IS
'Shape check of a Solana address: 32 to 44 base58 characters. (resonance.wallet also checks it decodes to 32 bytes.)';

REVOKE ALL ON FUNCTION tipping.is_solana_address(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.is_solana_address(text) TO service_role;

CREATE OR REPLACE FUNCTION tipping.create_registration_nonce(
    p_discord_user_id text,
    p_discord_username text DEFAULT NULL,
    p_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_nonce text := encode(extensions.gen_random_bytes(16), 'hex');
    v_expires_at timestamptz := v_at + interval '10 minutes';
BEGIN
    IF p_discord_user_id IS NULL OR btrim(p_discord_user_id) = '' THEN
        RAISE EXCEPTION 'a registration nonce needs a member' USING ERRCODE = 'RT006';
    END IF;
    INSERT INTO tipping.registration_nonces (nonce, discord_user_id, discord_username, created_at, expires_at)
    VALUES (v_nonce, p_discord_user_id, p_discord_username, v_at, v_expires_at);
    RETURN jsonb_build_object(
        'nonce', v_nonce,
        'message', tipping.registration_message(p_discord_user_id, v_nonce),
        'discord_user_id', p_discord_user_id,
        'expires_at', v_expires_at
    );
END;
$$;

COMMENT ON FUNCTION tipping.create_registration_nonce(text, text, timestamptz) IS
'Issues a random one-use registration nonce (128 bits, hex) for a member, stored with expires_at = p_at (default now()) + 10 minutes. Returns {nonce, message (the exact text to sign), discord_user_id, expires_at}. Raises RT006 without a member.';

REVOKE ALL ON FUNCTION tipping.create_registration_nonce(text, text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.create_registration_nonce(text, text, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION tipping.complete_wallet_registration(
    p_discord_user_id text,
    p_nonce text,
    p_wallet_address text,
    p_signature text,
    p_discord_username text DEFAULT NULL,
    p_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_nonce tipping.registration_nonces%ROWTYPE;
    v_existing tipping.wallet_registrations%ROWTYPE;
    v_message_data jsonb;
    v_status text := 'registered';
BEGIN
    IF p_discord_user_id IS NULL OR btrim(p_discord_user_id) = '' THEN
        RAISE EXCEPTION 'wallet registration needs a member' USING ERRCODE = 'RT006';
    END IF;
    IF NOT tipping.is_solana_address(p_wallet_address) THEN
        RAISE EXCEPTION 'not a Solana address: %', coalesce(p_wallet_address, 'NULL') USING ERRCODE = 'RT010';
    END IF;
    IF p_signature IS NULL OR btrim(p_signature) = '' THEN
        RAISE EXCEPTION 'wallet registration needs the verified signature' USING ERRCODE = 'RT017';
    END IF;

    -- Consume the nonce: once, before expiry, only by its member. Postgres re-checks the WHERE
    -- after waiting on a concurrent consumer, so two racing completions cannot both pass.
    UPDATE tipping.registration_nonces AS n
    SET used = TRUE, used_at = v_at
    WHERE n.nonce = p_nonce
        AND NOT n.used
        AND n.discord_user_id = p_discord_user_id
        AND n.expires_at > v_at
    RETURNING n.* INTO v_nonce;

    IF v_nonce.id IS NULL THEN
        SELECT n.* INTO v_nonce FROM tipping.registration_nonces AS n WHERE n.nonce = p_nonce;
        IF v_nonce.id IS NULL THEN
            RAISE EXCEPTION 'unknown registration nonce' USING ERRCODE = 'RT011';
        ELSIF v_nonce.discord_user_id <> p_discord_user_id THEN
            RAISE EXCEPTION 'this nonce was issued to another member' USING ERRCODE = 'RT012';
        ELSIF v_nonce.used THEN
            RAISE EXCEPTION 'this nonce was already used' USING ERRCODE = 'RT013';
        ELSE
            RAISE EXCEPTION 'this nonce expired at %', v_nonce.expires_at USING ERRCODE = 'RT014';
        END IF;
    END IF;

    v_message_data := jsonb_build_object(
        'message', tipping.registration_message(p_discord_user_id, p_nonce),
        'signature', p_signature,
        'nonce_issued_at', v_nonce.created_at
    );

    INSERT INTO tipping.users (user_id) VALUES (p_discord_user_id) ON CONFLICT (user_id) DO NOTHING;

    INSERT INTO tipping.wallet_registrations (discord_user_id, discord_username, wallet_address, verified_at, nonce, message_data)
    VALUES (p_discord_user_id, coalesce(p_discord_username, v_nonce.discord_username), p_wallet_address, v_at, p_nonce, v_message_data)
    ON CONFLICT DO NOTHING
    RETURNING * INTO v_existing;

    IF v_existing.id IS NULL THEN
        SELECT w.* INTO v_existing FROM tipping.wallet_registrations AS w WHERE w.discord_user_id = p_discord_user_id;
        IF v_existing.id IS NULL THEN
            RAISE EXCEPTION 'wallet % is registered to another member', p_wallet_address USING ERRCODE = 'RT016';
        ELSIF v_existing.wallet_address <> p_wallet_address THEN
            RAISE EXCEPTION 'member % already registered another wallet (one wallet per member)', p_discord_user_id
                USING ERRCODE = 'RT015';
        END IF;
        -- The same wallet proven again: refresh the proof.
        UPDATE tipping.wallet_registrations AS w
        SET verified_at = v_at, nonce = p_nonce, message_data = v_message_data,
            discord_username = coalesce(p_discord_username, w.discord_username)
        WHERE w.id = v_existing.id
        RETURNING w.* INTO v_existing;
        v_status := 'already_registered';
    END IF;

    UPDATE tipping.verifications AS v
    SET wallet_address = p_wallet_address, verified = v.terms_version IS NOT NULL
    WHERE v.discord_id = p_discord_user_id;

    UPDATE tipping.trust_badges AS b
    SET wallet_address = p_wallet_address
    WHERE b.discord_id = p_discord_user_id AND b.wallet_address IS DISTINCT FROM p_wallet_address;

    RETURN jsonb_build_object(
        'status', v_status,
        'discord_user_id', p_discord_user_id,
        'wallet_address', p_wallet_address,
        'verified_at', v_existing.verified_at
    );
END;
$$;

COMMENT ON FUNCTION tipping.complete_wallet_registration(text, text, text, text, text, timestamptz) IS
'Call only after the ed25519 signature over registration_message(member, nonce) was verified (resonance.wallet does). Consumes the nonce (once, before expiry, only for the member it was issued to) and binds the wallet: status registered, or already_registered when the member proves the same wallet again. Raises RT006, RT010 (not a Solana address), RT011 (unknown nonce), RT012 (another member''s nonce), RT013 (nonce used), RT014 (nonce expired), RT015 (member has another wallet), RT016 (wallet bound to another member), RT017 (no signature).';

REVOKE ALL ON FUNCTION tipping.complete_wallet_registration(text, text, text, text, text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.complete_wallet_registration(text, text, text, text, text, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION tipping.cleanup_expired_nonces(p_at timestamptz DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_deleted integer;
BEGIN
    DELETE FROM tipping.registration_nonces AS n WHERE n.expires_at <= coalesce(p_at, now());
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END;
$$;

COMMENT ON FUNCTION tipping.cleanup_expired_nonces(timestamptz) IS
'Deletes every registration nonce expired at p_at (default now()), used or not; returns how many. Scheduled hourly at :07 by db/jobs/02_nonce_cleanup.sql where pg_cron runs.';

REVOKE ALL ON FUNCTION tipping.cleanup_expired_nonces(timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION tipping.cleanup_expired_nonces(timestamptz) TO service_role;
