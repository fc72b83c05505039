"""The rollups (user_interactions, daily_stats) equal a raw recomputation after any sequence of
writes: live messages and edits, soft deletes, reactions added and removed, sync batches that
replace a message's mentions and reactions, hard deletes, retention purges. Another tenant syncing
the same ids is a bystander whose rollups never move. Then the retention job and the per-tenant
rebuild."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from analytics_support import assert_rollups_match_raw, raw, rollups
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resonance.analytics.extractor import SyncStats, _Batch, _flush
from resonance.analytics.protocols import snowflake_at

SERVER = 424242
CHANNELS = [5001, 5002]
USERS = [7001, 7002, 7003, 7004, 7005]
EMOJIS = [("\N{FIRE}", None), ("\N{PARTY POPPER}", None), ("resonance", 9001)]
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
MESSAGES = [snowflake_at(T0 + timedelta(hours=7 * i), i) for i in range(12)]  # spread over several UTC days


def message_payload(i: int, author: int, channel: int, reply_to: int | None, resolved: bool, mentions: list[int],
                    edit: int) -> dict:
    mid = MESSAGES[i]
    return {
        "id": mid, "channel_id": channel,
        "author": {"id": author, "name": f"user{author}"},
        "content": f"message {i} v{edit}",
        "created_at": (T0 + timedelta(hours=7 * i)).isoformat(),
        "edited_at": (T0 + timedelta(hours=7 * i, minutes=edit)).isoformat() if edit else None,
        "type": 19 if reply_to is not None else 0,
        "reply_to_message_id": MESSAGES[reply_to] if reply_to is not None else None,
        # An unresolved reference: the author comes from the stored referenced message, if any.
        "reply_to_author_id": None,
        "mentions": [{"id": u, "name": f"user{u}"} for u in mentions],
        "attachment_count": 0, "embed_count": 0,
    }


ops = st.one_of(
    st.tuples(st.just("message"), st.integers(0, 11), st.sampled_from(USERS), st.sampled_from(CHANNELS),
              st.one_of(st.none(), st.integers(0, 11)), st.booleans(), st.lists(st.sampled_from(USERS), max_size=3),
              st.integers(0, 3)),
    st.tuples(st.just("delete"), st.integers(0, 11)),
    st.tuples(st.just("react"), st.integers(0, 11), st.sampled_from(USERS), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("batch"), st.lists(
        st.tuples(st.integers(0, 11), st.sampled_from(USERS), st.lists(st.sampled_from(USERS), max_size=2),
                  st.lists(st.tuples(st.integers(0, 2), st.sampled_from(USERS)), max_size=4)),
        min_size=1, max_size=3)),
    st.tuples(st.just("hard_delete"), st.integers(0, 11)),
    st.tuples(st.just("purge"), st.integers(1, 4), st.integers(0, 5)),
)


async def apply(db, tenant: str, op: tuple) -> None:
    kind = op[0]
    if kind == "message":
        _, i, author, channel, reply_to, resolved, mentions, edit = op
        # A message keeps its first author and channel (as in Discord): an edit only changes the rest.
        known = await db.fetchrow("SELECT author_id, channel_id FROM analytics.messages WHERE tenant_id = $1 AND id = $2",
                                  tenant, MESSAGES[i])
        if known:
            author, channel = known["author_id"], known["channel_id"]
        payload = message_payload(i, author, channel, reply_to, resolved, sorted(set(mentions)), edit)
        if resolved and reply_to is not None:
            payload["reply_to_author_id"] = await db.fetchval(
                "SELECT author_id FROM analytics.messages WHERE tenant_id = $1 AND id = $2", tenant, MESSAGES[reply_to])
        await db.fetchval("SELECT analytics._ingest_message($1, $2, $3::jsonb)", tenant, SERVER, json.dumps(payload))
    elif kind == "delete":
        await db.fetchval("SELECT analytics.delete_message($1, $2)", tenant, MESSAGES[op[1]])
    elif kind == "react":
        _, i, user, emoji, removed = op
        name, emoji_id = EMOJIS[emoji]
        payload = {"message_id": MESSAGES[i], "user": {"id": user, "name": f"user{user}"}, "emoji_name": name,
                   "emoji_id": emoji_id}
        await db.fetchval("SELECT analytics._ingest_reaction($1, $2, $3::jsonb, $4)", tenant, SERVER,
                          json.dumps(payload), removed)
    elif kind == "batch":
        # A sync batch: each message with its whole mention list and its whole reaction set (reactions_complete).
        batch = _Batch(tenant, SERVER)
        for i, author, mentions, reactions in op[1]:
            known = await db.fetchval("SELECT author_id FROM analytics.messages WHERE tenant_id = $1 AND id = $2",
                                      tenant, MESSAGES[i])
            author = known or author
            for user in {author, *mentions, *(u for _, u in reactions)}:
                batch.users[user] = (batch.id, tenant, SERVER, user, f"user{user}", None, None, False, False, None, None)
            batch.messages = [m for m in batch.messages if m[4] != MESSAGES[i]]
            batch.reactions = [r for r in batch.reactions if r[2] != MESSAGES[i]]
            batch.messages.append((batch.id, tenant, SERVER, CHANNELS[i % 2], MESSAGES[i], author, f"synced {i}",
                                   T0 + timedelta(hours=7 * i), None, 0, None, None, sorted(set(mentions)), 0, 0, True))
            for emoji, user in sorted(set(reactions)):
                name, emoji_id = EMOJIS[emoji]
                batch.reactions.append((batch.id, tenant, MESSAGES[i], emoji_id, name, False, user))
        await _flush(db, batch, None, SyncStats(tenant, SERVER))
    elif kind == "hard_delete":
        await db.execute("DELETE FROM analytics.messages WHERE tenant_id = $1 AND id = $2", tenant, MESSAGES[op[1]])
    elif kind == "purge":
        _, days, after_days = op
        await db.execute(
            "INSERT INTO analytics.tenant_settings (tenant_id, history_days) VALUES ($1, $2) "
            "ON CONFLICT (tenant_id) DO UPDATE SET history_days = excluded.history_days", tenant, days)
        await db.fetchval("SELECT analytics.purge_history($1, $2)", tenant, T0 + timedelta(days=after_days))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(ops, min_size=1, max_size=25))
async def test_rollups_equal_a_raw_recomputation_after_any_writes(db, sequence):
    tenant, bystander = f"h-{uuid.uuid4().hex[:8]}", f"b-{uuid.uuid4().hex[:8]}"
    for op in sequence[:3]:
        await apply(db, bystander, op)  # same ids, another tenant
    before = await rollups(db, bystander)
    for op in sequence:
        await apply(db, tenant, op)
    await assert_rollups_match_raw(db, tenant)
    await assert_rollups_match_raw(db, bystander)
    assert await rollups(db, bystander) == before
    # The per-tenant rebuild agrees with what the triggers kept.
    kept = await rollups(db, tenant)
    assert await db.fetchval("SELECT analytics.refresh_views($1)", tenant) == 1
    assert await rollups(db, tenant) == kept


async def test_the_example_questions_answer_from_the_rollups_as_from_raw_rows(db):
    sequence = [
        ("message", 0, 7001, 5001, None, False, [7002], 0),
        ("message", 1, 7002, 5001, 0, True, [], 0),
        ("message", 2, 7003, 5002, 1, False, [7001, 7002], 0),
        ("react", 0, 7003, 0, False), ("react", 0, 7004, 2, False), ("react", 1, 7001, 1, False),
        ("message", 3, 7002, 5002, 0, True, [], 0),
        ("delete", 2),
    ]
    for op in sequence:
        await apply(db, "q", op)
    interactions, daily = await raw(db, "q")
    pairs = await db.fetch("SELECT replier_id, replied_to_id, reply_count FROM analytics.top_reply_pairs('q', $1, 100)", SERVER)
    want = sorted(((f, t, r) for _, f, t, r, _, _, _ in interactions if r), key=lambda x: (-x[2], x[0], x[1]))
    assert [tuple(p) for p in pairs] == want == [(7002, 7001, 2)]  # message 2 (a reply to 1) was deleted
    trends = await db.fetch("SELECT day, messages, active_users FROM analytics.daily_trends('q', $1, 30, $2)",
                            SERVER, T0 + timedelta(days=2))
    assert [tuple(t) for t in trends] == [(d, m, a) for _, c, d, m, a in daily if c == 0]
    givers = await db.fetch("SELECT user_id, reactions_given FROM analytics.top_reaction_givers('q', $1, 10)", SERVER)
    assert sorted(tuple(g) for g in givers) == [(7001, 1), (7003, 1), (7004, 1)]
    # The tenant views, as the console reads them, answer the same.
    from resonance.analytics.questions import console_query

    seen = await console_query(db, "q", "SELECT from_user_id, to_user_id, replies, reactions, mentions, total "
                                        "FROM tenant_user_interactions ORDER BY 1, 2")
    keys = ("from_user_id", "to_user_id", "replies", "reactions", "mentions", "total")
    assert [tuple(r[k] for k in keys) for r in seen.rows] == [row[1:] for row in interactions]
    seen = await console_query(db, "q", "SELECT count(*) AS n FROM messages")  # the deleted one is hidden
    assert seen.rows == [{"n": 3}]


async def test_the_retention_job_purges_each_tenant_by_its_own_window(db):
    for tenant in ("keep-30", "keep-2", "keep-all"):
        for op in [("message", i, USERS[i % 5], CHANNELS[i % 2], i - 1 if i else None, True, [USERS[(i + 1) % 5]], 0)
                   for i in range(12)]:
            await apply(db, tenant, op)
        await apply(db, tenant, ("react", 11, 7001, 0, False))
    await db.execute("INSERT INTO analytics.tenant_settings (tenant_id, history_days) VALUES ('keep-2', 2), ('keep-all', NULL)")
    at = T0 + timedelta(days=3)  # messages are 7 hours apart from T0: 12 of them span 3.2 days
    result = json.loads(await db.fetchval("SELECT analytics.purge_all_history($1)", at))
    left = {t: await db.fetchval("SELECT count(*) FROM analytics.messages WHERE tenant_id = $1", t)
            for t in ("keep-30", "keep-2", "keep-all")}
    cutoff = at - timedelta(days=2)
    expected_keep_2 = sum(1 for i in range(12) if T0 + timedelta(hours=7 * i) >= cutoff)
    assert left == {"keep-30": 12, "keep-2": expected_keep_2, "keep-all": 12}
    assert result["messages_purged"] == 12 - expected_keep_2
    for tenant in ("keep-30", "keep-2", "keep-all"):
        await assert_rollups_match_raw(db, tenant)
    # The purged messages' mentions went with them; the rest of the tenant is untouched.
    assert await db.fetchval(
        "SELECT count(*) FROM analytics.message_mentions mm WHERE tenant_id = 'keep-2' "
        "AND NOT EXISTS (SELECT FROM analytics.messages m WHERE m.tenant_id = mm.tenant_id AND m.id = mm.message_id)") == 0
    assert await db.fetchval("SELECT analytics.history_days('nobody')") == 30


@pytest.mark.parametrize("kind", ["message", "message_delete", "reaction_add", "member_join", "channel"])
async def test_live_events_respect_the_servers_analytics_switch(db, kind):
    await db.execute("INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ($1, 'brand-sw')", str(SERVER))
    payload = {
        "message": message_payload(0, 7001, 5001, None, False, [], 0),
        "message_delete": {"message_id": MESSAGES[0]},
        "reaction_add": {"message_id": MESSAGES[0], "user": {"id": 7002, "name": "user7002"}, "emoji_name": "x"},
        "member_join": {"user": {"id": 7003, "name": "user7003"}, "nick": None, "joined_at": T0.isoformat()},
        "channel": {"id": 5001, "name": "general", "type": 0, "position": 1},
    }[kind]

    async def event(server: str = str(SERVER)) -> dict:
        return json.loads(await db.fetchval("SELECT analytics.ingest_event($1, $2, $3::jsonb)", server, kind, json.dumps(payload)))

    assert (await event("1"))["status"] == "not_linked"
    fingerprint = await db.fetchval("SELECT count(*) FROM analytics.servers WHERE tenant_id = 'brand-sw'")
    off = json.loads(await db.fetchval("SELECT analytics.set_server_analytics($1, false, 'admin-1')", str(SERVER)))
    assert off == {"status": "disabled", "tenant_id": "brand-sw"}
    assert (await event())["status"] == "disabled"
    assert await db.fetchval("SELECT count(*) FROM analytics.servers WHERE tenant_id = 'brand-sw'") == fingerprint == 0
    on = json.loads(await db.fetchval("SELECT analytics.set_server_analytics($1, true, 'admin-1')", str(SERVER)))
    assert on["status"] == "enabled"
    if kind in ("message_delete", "reaction_add"):
        first = json.loads(await db.fetchval("SELECT analytics.ingest_event($1, 'message', $2::jsonb)", str(SERVER),
                                             json.dumps(message_payload(0, 7001, 5001, None, False, [], 0))))
        assert first["status"] == "inserted"
    result = await event()
    assert result["tenant_id"] == "brand-sw"
    assert result["status"] == {"message": "inserted", "message_delete": "deleted", "reaction_add": "added",
                                "member_join": "joined", "channel": "channel_written"}[kind]


async def test_an_unknown_live_event_kind_is_refused(db):
    import asyncpg

    await db.execute("INSERT INTO public.discord_server_configs (server_id, brand_id) VALUES ('77', 'brand-k')")
    with pytest.raises(asyncpg.PostgresError) as caught:
        await db.fetchval("SELECT analytics.ingest_event('77', 'typing', '{}'::jsonb)")
    assert caught.value.sqlstate == "RA010"


async def test_the_bench_ingest_goes_through_the_sync_path(db):
    from resonance.analytics.benchmark import RAW_MESSAGE_COLUMNS, generate, ingest, ingest_generated

    rows = generate(1_500, tenant_id="bench-t", seed=3)
    assert len(rows.messages) == 1_500 and len(rows.messages[0]) == len(RAW_MESSAGE_COLUMNS)
    run = await ingest(db, rows, batch_size=400)
    assert run.rows == 1_500 and run.rows_per_second > 0
    assert await db.fetchval("SELECT count(*) FROM analytics.messages WHERE tenant_id = 'bench-t'") == 1_500
    assert await db.fetchval("SELECT count(*) FROM analytics.reactions WHERE tenant_id = 'bench-t'") == len(rows.reactions)
    await assert_rollups_match_raw(db, "bench-t")
    # The same rows again change nothing (idempotent), and another seed is another server.
    before = await rollups(db, "bench-t")
    await ingest(db, rows, batch_size=400)
    assert await rollups(db, "bench-t") == before
    assert (await ingest_generated(db, 300, tenant_id="bench-u", seed=4)).rows == 300
    # The raw side: the same tuples COPY into a bare table of the staged shape.
    await db.execute("CREATE TEMP TABLE bare (LIKE resonance.analytics_stage_messages)")
    await db.execute("ALTER TABLE bare DROP COLUMN batch_id")
    await db.copy_records_to_table("bare", columns=RAW_MESSAGE_COLUMNS, records=rows.messages)
    assert await db.fetchval("SELECT count(*) FROM bare") == 1_500


async def test_rollups_stay_exact_under_concurrent_writers_of_one_tenant(database_url, db):
    """Eight connections send live messages, reactions, removals and deletes for one tenant while a
    ninth replays sync batches of the same messages: the rollups still equal the raw rows."""
    import asyncio
    import random

    import asyncpg

    tenant = "storm-live"
    for i in range(12):
        await apply(db, tenant, ("message", i, USERS[i % 5], CHANNELS[i % 2], i - 1 if i else None, True, [USERS[(i + 2) % 5]], 0))

    async def writer(seed: int) -> None:
        rng = random.Random(seed)
        conn = await asyncpg.connect(database_url)
        try:
            for _ in range(40):
                op = rng.choice([
                    ("react", rng.randrange(12), rng.choice(USERS), rng.randrange(3), rng.random() < 0.4),
                    ("message", rng.randrange(12), rng.choice(USERS), rng.choice(CHANNELS), rng.choice([None, rng.randrange(12)]),
                     rng.random() < 0.5, rng.sample(USERS, k=rng.randint(0, 2)), rng.randint(0, 3)),
                    ("delete", rng.randrange(12)),
                    ("batch", [(rng.randrange(12), rng.choice(USERS), rng.sample(USERS, k=1),
                                [(rng.randrange(3), rng.choice(USERS))])]),
                ])
                await apply(conn, tenant, op)
        finally:
            await conn.close()

    await asyncio.gather(*[writer(seed) for seed in range(9)])
    await assert_rollups_match_raw(db, tenant)
