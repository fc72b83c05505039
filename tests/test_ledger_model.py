"""A hypothesis state machine drives mint, tip, spend and replays against the database and against a
model ledger in Python, and checks after every step that both agree: the same outcome (a result or
the same RT0xx code), the same balances, and reconcile() empty."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import asyncpg
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

MEMBERS = ["m0", "m1", "m2", "m3", "m4"]
CURRENCIES = {"RSNC": 8, "USD2": 2, "OLD": 8, "NOPE": None}  # NOPE: unknown; OLD: inactive
ACTIVE = {"RSNC", "USD2"}

# Mostly valid amounts, some zero/negative, some over-precise.
amounts = st.one_of(
    st.integers(min_value=1, max_value=5_000).map(lambda n: Decimal(n) / 100),
    st.integers(min_value=1, max_value=10**9).map(lambda n: Decimal(n) * Decimal("0.00000001")),
    st.sampled_from([Decimal(0), Decimal(-1), Decimal("0.000000001"), Decimal("1.001")]),
)
members = st.sampled_from(MEMBERS + ["ghost"])
currencies = st.sampled_from(list(CURRENCIES))
keys = st.one_of(st.none(), st.sampled_from(["k1", "k2", "k3"]))


class ModelLedger:
    def __init__(self) -> None:
        self.balances: dict[tuple[str, str], Decimal] = {}
        self.known: set[str] = set()
        self.keys: dict[str, tuple[tuple, object]] = {}

    def check(self, amount: Decimal, currency: str) -> str | None:
        if currency not in ACTIVE:
            return "RT005"
        if amount <= 0:
            return "RT003"
        if amount != round(amount, CURRENCIES[currency]):
            return "RT004"
        return None

    def move(self, kind: str, sender: str | None, recipient: str | None, amount: Decimal, currency: str, key: str | None):
        """Returns ('error', code) or ('ok', replay_of or None)."""
        code = self.check(amount, currency)
        if code:
            return ("error", code)
        if sender is not None and sender == recipient:
            return ("error", "RT002")
        if sender is not None and sender not in self.known:
            return ("error", "RT006")
        signature = (kind, sender, recipient, amount, currency)
        if key is not None and key in self.keys:
            first, result = self.keys[key]
            if first != signature:
                return ("error", "RT007")
            return ("ok", result)
        if sender is not None and self.balances.get((sender, currency), Decimal(0)) < amount:
            return ("error", "RT001")
        if sender is not None:
            self.balances[(sender, currency)] -= amount
        if recipient is not None:
            self.known.add(recipient)
            self.balances[(recipient, currency)] = self.balances.get((recipient, currency), Decimal(0)) + amount
        return ("ok", None)


class LedgerMachine(RuleBasedStateMachine):
    url: str = ""
    loop: asyncio.AbstractEventLoop

    def __init__(self) -> None:
        super().__init__()
        self.model = ModelLedger()
        self.conn: asyncpg.Connection = self.run(asyncpg.connect(self.url))

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    @initialize()
    def reset(self) -> None:
        self.run(
            self.conn.execute(
                "TRUNCATE tipping.tips, tipping.transactions, tipping.balances, tipping.users CASCADE;"
                "INSERT INTO tipping.currencies (code, decimals) VALUES ('USD2', 2) ON CONFLICT DO NOTHING;"
                "INSERT INTO tipping.currencies (code, decimals, is_active) VALUES ('OLD', 8, FALSE) ON CONFLICT DO NOTHING;"
            )
        )

    def teardown(self) -> None:
        self.run(self.conn.close())

    def call(self, sql: str, *args):
        try:
            return ("ok", self.run(self.conn.fetchval(sql, *args)))
        except asyncpg.PostgresError as exc:
            assert exc.sqlstate and exc.sqlstate.startswith("RT"), f"untyped error {exc.sqlstate}: {exc}"
            return ("error", exc.sqlstate)

    def apply(self, kind, sender, recipient, amount, currency, key, sql, *args) -> None:
        expected = self.model.move(kind, sender, recipient, amount, currency, key)
        actual = self.call(sql, *args)
        if expected[0] == "error":
            assert actual == expected, f"{kind} {args}: db {actual}, model {expected}"
            return
        assert actual[0] == "ok", f"{kind} {args}: db {actual}, model ok"
        if expected[1] is not None:
            assert actual[1] == expected[1], "a replay must return the first result"
        elif key is not None:
            self.model.keys[key] = ((kind, sender, recipient, amount, currency), actual[1])

    @rule(member=members, amount=amounts, currency=currencies, key=keys)
    def mint(self, member, amount, currency, key) -> None:
        self.apply("mint", None, member, amount, currency, key,
                   "SELECT tipping.mint($1, $2, $3, 'model', $4)", member, amount, currency, key)

    @rule(sender=members, receiver=members, amount=amounts, currency=currencies, key=keys)
    def tip(self, sender, receiver, amount, currency, key) -> None:
        self.apply("tip", sender, receiver, amount, currency, key,
                   "SELECT tipping.tip($1, $2, $3, $4, NULL, $5)", sender, receiver, amount, currency, key)

    @rule(member=members, amount=amounts, currency=currencies, key=keys)
    def spend(self, member, amount, currency, key) -> None:
        self.apply("purchase", member, None, amount, currency, key,
                   "SELECT tipping.spend($1, $2, $3, 'brand', NULL, 'model', $4)", member, amount, currency, key)

    @rule(data=st.data())
    def replay(self, data) -> None:
        if not self.model.keys:
            return
        key = data.draw(st.sampled_from(sorted(self.model.keys)))
        (kind, sender, recipient, amount, currency), _ = self.model.keys[key]
        if kind == "mint":
            self.mint(recipient, amount, currency, key)
        elif kind == "tip":
            self.tip(sender, recipient, amount, currency, key)
        else:
            self.spend(sender, amount, currency, key)

    @invariant()
    def balances_agree(self) -> None:
        rows = self.run(self.conn.fetch("SELECT user_id, currency, amount FROM tipping.balances"))
        db = {(r["user_id"], r["currency"]): r["amount"] for r in rows if r["amount"] != 0}
        model = {k: v for k, v in self.model.balances.items() if v != 0}
        assert db == model
        assert all(r["amount"] >= 0 for r in rows)
        assert self.run(self.conn.fetch("SELECT * FROM tipping.reconcile()")) == []
        for member in MEMBERS[:2]:
            balance = self.run(self.conn.fetchval("SELECT tipping.balance($1, 'RSNC')", member))
            assert balance == self.model.balances.get((member, "RSNC"), Decimal(0))


def test_database_matches_the_model_ledger(database_url: str) -> None:
    loop = asyncio.new_event_loop()
    try:
        LedgerMachine.url = database_url
        LedgerMachine.loop = loop
        runner = LedgerMachine.TestCase()
        runner.settings = settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        runner.runTest()
    finally:
        loop.close()
