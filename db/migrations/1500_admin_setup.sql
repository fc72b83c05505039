-- Onboarding and the admin API: single-use link codes, an on/off switch for community goals (their
-- start, starts_at, comes with 1201), and who last handled a support ticket.

CREATE TABLE resonance.link_codes (
    code text PRIMARY KEY CHECK (code ~ '^[A-Z2-9]{8}$'),
    brand_id text NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    redeemed_at timestamptz,
    redeemed_server_id text,
    redeemed_by text,
    CONSTRAINT link_code_expires_after_creation CHECK (expires_at > created_at),
    CONSTRAINT link_code_redeemed_together CHECK ((redeemed_at IS NULL) = (redeemed_server_id IS NULL))
);

CREATE INDEX idx_link_codes_brand ON resonance.link_codes (brand_id, created_at DESC);

COMMENT ON TABLE resonance.link_codes IS 'Single-use codes a Partner Portal brand hands to a community manager: /setup code:<code> links the guild to that brand. Valid 10 minutes; redeemed once.';
COMMENT ON COLUMN resonance.link_codes.code IS 'Eight characters from A-Z and 2-9 (about 40 bits), shown to the portal user once.';
COMMENT ON COLUMN resonance.link_codes.created_by IS 'The portal user (or admin) who asked for the code.';
COMMENT ON COLUMN resonance.link_codes.redeemed_server_id IS 'The guild linked with the code; set once, with redeemed_at and redeemed_by (the Discord admin).';

ALTER TABLE public.discord_community_goals ADD COLUMN is_active boolean NOT NULL DEFAULT TRUE;

COMMENT ON COLUMN public.discord_community_goals.is_active IS 'Added: FALSE once an admin disabled the goal (resonance.disable_goal): no longer refreshed or listed to members.';

ALTER TABLE tipping.tickets ADD COLUMN handled_by text;

COMMENT ON COLUMN tipping.tickets.handled_by IS 'Added: Discord id of the staff member who last changed the ticket''s status or priority (tipping.update_ticket).';
