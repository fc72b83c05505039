"""The one seam between the bot and the database: every typed-layer call a feature makes, by name.

Features call `rt.call("<name>", ...)`, which looks the name up here; handler tests swap single names
(Runtime(pool, api={...})). Each name is a function of resonance.db.* taking the pool first.
"""

from __future__ import annotations

from resonance.db.admin import (
    build_report,
    complete_outbox,
    create_milestone,
    due_reports,
    fail_outbox,
    list_event_rules,
    manual_reward,
    recent_audit,
    record_event,
    release_outbox,
    set_event_rule,
    set_report_schedule,
    set_role_effect,
    take_outbox,
)
from resonance.db.bot import (
    bot_servers,
    claim_interaction,
    finish_interaction,
    reconcile_server_roles,
    sync_member_roles,
    voice_checkpoint,
    voice_session_credited,
    voice_session_join,
    voice_session_leave,
    voice_sessions_pending,
)
from resonance.db.drops import (
    attach_drop_message,
    cancel_drop,
    claim_drop,
    claim_one_time_bonus,
    claim_reaction_drop,
    create_drop,
)
from resonance.db.engine import (
    daily_checkin,
    leaderboard,
    record_message,
    record_messages,
    record_reaction,
    record_voice,
)
from resonance.db.kpis import compute_kpis
from resonance.db.ledger import balance, tip
from resonance.db.member import (
    close_ticket,
    create_registration_nonce,
    history,
    list_achievements,
    list_goals,
    list_tickets,
    member_stats,
    open_ticket,
    purchase_role,
    register_wallet,
)

__all__ = [
    "attach_drop_message",
    "balance",
    "bot_servers",
    "build_report",
    "cancel_drop",
    "claim_drop",
    "claim_interaction",
    "claim_one_time_bonus",
    "claim_reaction_drop",
    "close_ticket",
    "complete_outbox",
    "compute_kpis",
    "create_drop",
    "create_milestone",
    "create_registration_nonce",
    "daily_checkin",
    "due_reports",
    "fail_outbox",
    "finish_interaction",
    "history",
    "leaderboard",
    "list_achievements",
    "list_event_rules",
    "list_goals",
    "list_tickets",
    "manual_reward",
    "member_stats",
    "open_ticket",
    "purchase_role",
    "recent_audit",
    "reconcile_server_roles",
    "record_event",
    "record_message",
    "record_messages",
    "record_reaction",
    "record_voice",
    "register_wallet",
    "release_outbox",
    "set_event_rule",
    "set_report_schedule",
    "set_role_effect",
    "sync_member_roles",
    "take_outbox",
    "tip",
    "voice_checkpoint",
    "voice_session_credited",
    "voice_session_join",
    "voice_session_leave",
    "voice_sessions_pending",
]
