"""Where every Resonance table lives on a Citus cluster: the distribution plan, as data.

Five placements:
- REFERENCE: small configuration every node reads locally (a full copy on each node; writes go to all);
- SERVER: hash-distributed by `server_id`, one colocation group, so everything one Discord server
  touches lives on one worker and the hot functions run there;
- TENANT: the analytics warehouse, hash-distributed by `tenant_id` (the brand), colocated;
- MEMBER: the tipping balances, hash-distributed by member (`user_id`), colocated;
- POSTGRES: plain tables on the coordinator, unknown to Citus (the analytics warehouse for now);
- COORDINATOR: Citus local tables (one copy, on the coordinator, reachable from every node): tables
  whose keys cannot include a distribution column (a global idempotency key, two independent unique
  columns) or that only jobs and rare admin paths touch.

`docs/scaling.md` says why each table is where it is; tests/citus/test_citus_plan.py fails when a table
of our schemas is missing here, so a new migration cannot leave a table unplaced without notice.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMAS = ("public", "resonance", "tipping", "analytics", "saas")


@dataclass(frozen=True)
class Placement:
    kind: str  # reference | distributed | coordinator | postgres
    column: str | None = None
    group: str | None = None  # colocation group (distributed only)


REFERENCE = Placement("reference")
COORDINATOR = Placement("coordinator")
POSTGRES = Placement("postgres")
SERVER = Placement("distributed", "server_id", "server")
TENANT = Placement("distributed", "tenant_id", "tenant")
MEMBER = Placement("distributed", "user_id", "member")

PLAN: dict[str, Placement] = {
    # configuration: small, read by every event on every worker
    "public.discord_server_configs": REFERENCE,
    "public.monitoring_rules": REFERENCE,  # server_id is NULL for brand-wide rules
    "public.discord_role_configs": REFERENCE,
    "public.discord_achievements": REFERENCE,
    "public.discord_kpi_configs": REFERENCE,
    "public.discord_report_schedules": REFERENCE,
    "tipping.currencies": REFERENCE,
    # one Discord server's activity: colocated by server_id
    "public.discord_user_stats": SERVER,
    "public.discord_user_streaks": SERVER,
    "public.discord_drops": SERVER,
    "public.discord_drop_claims": SERVER,
    "public.discord_role_assignments": SERVER,
    "public.discord_user_achievements": SERVER,
    "public.discord_community_goals": SERVER,
    "public.discord_kpi_snapshots": SERVER,
    "public.discord_audit_log": SERVER,
    "public.discord_job_errors": SERVER,
    "resonance.daily_activity": SERVER,
    "resonance.processed_events": SERVER,
    "resonance.reward_ledger": SERVER,
    "resonance.rule_claims": SERVER,
    "resonance.rule_cooldowns": SERVER,
    "resonance.message_window": SERVER,
    "resonance.message_reactors": SERVER,
    "resonance.message_reaction_counts": SERVER,
    "resonance.voice_sessions": SERVER,
    # queues and job bookkeeping: drained across servers (FOR UPDATE SKIP LOCKED needs one placement)
    "resonance.outbox": COORDINATOR,
    "resonance.bot_interactions": COORDINATOR,  # keyed by Discord interaction id; server_id may be NULL
    "resonance.ledger_checks": COORDINATOR,
    "resonance.link_codes": COORDINATOR,
    "resonance.analytics_console_grants": COORDINATOR,
    "resonance.analytics_stage_messages": COORDINATOR,
    "resonance.analytics_stage_reactions": COORDINATOR,
    "resonance.analytics_stage_users": COORDINATOR,
    # the money ledger: balances by member; the journal keeps its global idempotency key
    "tipping.users": MEMBER,
    "tipping.balances": MEMBER,
    "tipping.transactions": COORDINATOR,
    "tipping.tips": COORDINATOR,
    "tipping.trust_badges": COORDINATOR,
    "tipping.wallet_registrations": COORDINATOR,
    "tipping.registration_nonces": COORDINATOR,
    "tipping.verifications": COORDINATOR,
    "tipping.tickets": COORDINATOR,
    # the SaaS accounts of the web tier: per brand, small, read by the web tier on the coordinator
    "saas.plans": COORDINATOR,
    "saas.subscriptions": COORDINATOR,
    "saas.query_usage": COORDINATOR,
    "saas.stripe_events": COORDINATOR,
    "saas.bot_connections": COORDINATOR,
    "saas.extraction_jobs": COORDINATOR,
    # the analytics warehouse: plain tables on the coordinator for now. Its rollups are maintained by
    # statement triggers reading transition tables: on the shards of a tenant-distributed warehouse
    # they crashed a Citus 13.2.2 worker at COMMIT PREPARED (signal 11), and as Citus local tables
    # Citus cannot plan them ("unrecognized RTE kind": the transition table). TENANT is the intended
    # placement once the rollups are maintained another way (docs/scaling.md).
    "analytics.servers": POSTGRES,
    "analytics.users": POSTGRES,
    "analytics.channels": POSTGRES,
    "analytics.emojis": POSTGRES,
    "analytics.messages": POSTGRES,
    "analytics.message_mentions": POSTGRES,
    "analytics.reactions": POSTGRES,
    "analytics.server_members": POSTGRES,
    "analytics.sync_state": POSTGRES,
    "analytics.interaction_counts": POSTGRES,
    "analytics.daily_author_counts": POSTGRES,
    "analytics.tenant_settings": POSTGRES,
}

# Functions delegated to the worker holding their first argument's shard: one Discord event, one
# worker. (name, distribution argument, colocated with)
DELEGATED: tuple[tuple[str, str, str], ...] = (
    ("resonance.record_message", "p_server_id", "public.discord_user_stats"),
    ("resonance.record_reaction", "p_server_id", "public.discord_user_stats"),
    ("resonance.record_voice", "p_server_id", "public.discord_user_stats"),
    ("resonance.record_event", "p_server_id", "public.discord_user_stats"),
    ("resonance.daily_checkin", "p_server_id", "public.discord_user_stats"),
    ("resonance.claim_one_time_bonus", "p_server_id", "public.discord_user_stats"),
    ("resonance.claim_reaction_drop", "p_server_id", "public.discord_user_stats"),
    ("resonance.compute_kpis", "p_server_id", "public.discord_user_stats"),
    ("resonance.member_stats", "p_server_id", "public.discord_user_stats"),
    ("resonance.leaderboard", "p_server_id", "public.discord_user_stats"),
)

# A policy may not hold a subquery on Citus: `x = any(array(SELECT f()))` becomes `x = any(g())` where
# g returns f's set as an array (db/citus/functions.sql), and `(SELECT expr)` without FROM becomes `(expr)`.
SET_TO_ARRAY = {"private.brand_server_ids": "private.brand_server_id_array"}

# Roles Citus must log in as on the workers (it opens its connections as the current role).
API_ROLES = ("anon", "authenticated", "service_role", "analytics_console")

# Trigger functions that write to other tables: on a reference table they fire on the coordinator's
# copy only (else once per node).
ONCE_TRIGGERS = ("resonance.audit_config_change",)

# Foreign keys Citus cannot enforce with these placements, dropped on Citus only (docs/scaling.md):
# the journal's member references; tipping.post_transaction creates the member row in the same
# transaction, so a journal row never names a member that does not exist.
DROPPED_FOREIGN_KEYS = (
    "tipping.transactions.transactions_sender_id_fkey",
    "tipping.transactions.transactions_recipient_id_fkey",
    # A reward decision (distributed by server) names its journal transaction (on the coordinator):
    # Citus allows no foreign key from a distributed table to a local one. Written in one statement
    # with its transaction (resonance.close_event), and tipping.reconcile() compares the two.
    "resonance.reward_ledger.reward_ledger_transaction_fkey",
)
