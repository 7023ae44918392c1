"""Property-based test: random postings, holds, posts, voids, expiries, reversals and retries against a
small in-memory model. After every step the ledger's posted and available balances, versions and
as_of balances must equal the model's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import ledger

# Account 0 is the bank (may go negative), 1 a credit line (may go negative), 2-4 customers (may not).
ALLOW_NEGATIVE = (True, True, False, False, False)
N = len(ALLOW_NEGATIVE)


@dataclass
class ModelHold:
    src: int
    dst: int
    amount: int
    expires_in_hours: int
    status: str = "pending"


@dataclass
class ModelTx:
    tx_id: uuid.UUID
    legs: list[tuple[int, int]]  # (account index, signed amount)
    effective_at: datetime
    params: dict = field(default_factory=dict)
    reversed: bool = False
    is_reversal: bool = False


class LedgerModel(RuleBasedStateMachine):
    database_url: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.conn = psycopg.connect(self.database_url, autocommit=True)
        self.base = datetime.now(UTC)
        self.ids = [ledger.open_account(self.conn, owner_id=None, name=f"p{i}", kind="test", currency="EUR",
                                        allow_negative=neg).id for i, neg in enumerate(ALLOW_NEGATIVE)]
        self.balance = [0] * N
        self.frozen = [False] * N
        self.holds: dict[uuid.UUID, ModelHold] = {}
        self.txs: list[ModelTx] = []
        self.entries: list[tuple[int, datetime, int]] = []  # (account, effective_at, amount)

    def teardown(self) -> None:
        self.conn.close()

    # --- model helpers ------------------------------------------------------------------------
    def pending(self, i: int) -> int:
        return sum(h.amount for h in self.holds.values() if h.src == i and h.status == "pending")

    def available(self, i: int) -> int:
        return self.balance[i] - self.pending(i)

    def refusal(self, legs: list[tuple[int, int]], *, allow_frozen: bool = False) -> type[Exception] | None:
        if any(self.frozen[i] for i, _ in legs) and not allow_frozen:
            return ledger.AccountFrozen
        for i, amount in legs:
            if amount < 0 and not ALLOW_NEGATIVE[i] and self.available(i) + amount < 0:
                return ledger.InsufficientFunds
        return None

    def apply(self, tx: ModelTx) -> None:
        for i, amount in tx.legs:
            self.balance[i] += amount
            self.entries.append((i, tx.effective_at, amount))
        self.txs.append(tx)

    # --- rules ----------------------------------------------------------------------------------
    @rule(src=st.integers(0, N - 1), dst=st.integers(0, N - 1), amount=st.integers(1, 5_000),
          back_minutes=st.one_of(st.none(), st.integers(1, 10_000)))
    def transfer(self, src: int, dst: int, amount: int, back_minutes: int | None) -> None:
        effective_at = None if back_minutes is None else self.base - timedelta(minutes=back_minutes)
        params = {"transaction_id": ledger.new_id(), "from_account_id": self.ids[src], "to_account_id": self.ids[dst],
                  "amount": amount, "currency": "EUR", "kind": "card_payment", "effective_at": effective_at}
        expected = ledger.SameAccount if src == dst else self.refusal([(src, -amount), (dst, amount)])
        if expected is not None:
            with pytest.raises(expected):
                ledger.post_transfer(self.conn, **params)
            return
        tx = ledger.post_transfer(self.conn, **params)
        self.apply(ModelTx(tx.id, [(src, -amount), (dst, amount)], tx.effective_at, params))

    @rule(amounts=st.lists(st.integers(-3_000, 3_000).filter(bool), min_size=2, max_size=N - 1), data=st.data())
    def multi_leg(self, amounts: list[int], data: st.DataObject) -> None:
        accounts = data.draw(st.permutations(range(N)))[: len(amounts) + 1]
        legs = [*zip(accounts, amounts, strict=False), (accounts[len(amounts)], -sum(amounts))]
        if legs[-1][1] == 0:
            legs.pop()
            if len(legs) < 2:
                return
            # Balanced without the last leg.
        expected = self.refusal(legs)
        call = lambda: ledger.post_transaction(  # noqa: E731
            self.conn, transaction_id=ledger.new_id(), kind="split", legs=[ledger.Leg(self.ids[i], x) for i, x in legs])
        if expected is not None:
            with pytest.raises(expected):
                call()
            return
        tx = call()
        self.apply(ModelTx(tx.id, legs, tx.effective_at))

    @rule(src=st.integers(0, N - 1), dst=st.integers(0, N - 1), amount=st.integers(1, 5_000),
          hours=st.integers(1, 48))
    def create_hold(self, src: int, dst: int, amount: int, hours: int) -> None:
        if src == dst:
            return
        hold_id = ledger.new_id()
        call = lambda: ledger.create_hold(  # noqa: E731
            self.conn, hold_id=hold_id, from_account_id=self.ids[src], to_account_id=self.ids[dst], amount=amount,
            currency="EUR", expires_at=self.base + timedelta(hours=hours))
        expected = self.refusal([(src, -amount), (dst, amount)])
        if expected is not None:
            with pytest.raises(expected):
                call()
            return
        assert call().status == "pending"
        self.holds[hold_id] = ModelHold(src, dst, amount, hours)

    @precondition(lambda self: any(h.status == "pending" for h in self.holds.values()))
    @rule(data=st.data(), part=st.one_of(st.none(), st.floats(0.01, 1.0)))
    def post_hold(self, data: st.DataObject, part: float | None) -> None:
        hold_id = data.draw(st.sampled_from([k for k, h in self.holds.items() if h.status == "pending"]))
        h = self.holds[hold_id]
        amount = h.amount if part is None else max(1, int(h.amount * part))
        if self.frozen[h.src] or self.frozen[h.dst]:
            with pytest.raises(ledger.AccountFrozen):
                ledger.post_hold(self.conn, hold_id, None if part is None else amount, transaction_id=ledger.new_id())
            return
        tx = ledger.post_hold(self.conn, hold_id, None if part is None else amount, transaction_id=ledger.new_id())
        h.status = "posted"
        self.apply(ModelTx(tx.id, [(h.src, -amount), (h.dst, amount)], tx.effective_at))

    @precondition(lambda self: bool(self.holds))
    @rule(data=st.data())
    def void_hold(self, data: st.DataObject) -> None:
        hold_id = data.draw(st.sampled_from(list(self.holds)))
        h = self.holds[hold_id]
        if h.status == "posted":
            with pytest.raises(ledger.errors.HoldAlreadyPosted):
                ledger.void_hold(self.conn, hold_id)
            return
        assert ledger.void_hold(self.conn, hold_id).status == ("voided" if h.status != "expired" else "expired")
        if h.status == "pending":
            h.status = "voided"

    @rule(hours=st.integers(1, 48))
    def expire(self, hours: int) -> None:
        ledger.expire_holds(self.conn, self.base + timedelta(hours=hours, seconds=1))
        for h in self.holds.values():
            if h.status == "pending" and h.expires_in_hours <= hours:
                h.status = "expired"

    @rule(i=st.integers(2, N - 1))
    def toggle_freeze(self, i: int) -> None:
        self.frozen[i] = not self.frozen[i]
        ledger.set_account_status(self.conn, self.ids[i], "frozen" if self.frozen[i] else "active")

    @precondition(lambda self: any(not t.reversed and not t.is_reversal for t in self.txs))
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        original = data.draw(st.sampled_from([t for t in self.txs if not t.reversed and not t.is_reversal]))
        legs = [(i, -x) for i, x in original.legs]
        expected = self.refusal(legs, allow_frozen=True)
        call = lambda: ledger.reverse_transaction(  # noqa: E731
            self.conn, transaction_id=ledger.new_id(), original_id=original.tx_id, reason="property test")
        if expected is not None:
            with pytest.raises(expected):
                call()
            return
        tx = call()
        original.reversed = True
        self.apply(ModelTx(tx.id, legs, tx.effective_at, is_reversal=True))

    @precondition(lambda self: any(t.params for t in self.txs))
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        original = data.draw(st.sampled_from([t for t in self.txs if t.params]))
        again = ledger.post_transfer(self.conn, **original.params)
        assert again.existing and again.effective_at == original.effective_at

    @precondition(lambda self: bool(self.entries))
    @rule(data=st.data(), nudge=st.sampled_from([timedelta(0), -timedelta(microseconds=1)]))
    def check_as_of(self, data: st.DataObject, nudge: timedelta) -> None:
        account, effective_at, _ = data.draw(st.sampled_from(self.entries))
        instant = effective_at + nudge
        expected = sum(x for i, at, x in self.entries if i == account and at <= instant)
        assert ledger.balance_as_of(self.conn, self.ids[account], instant) == expected

    # --- invariants -----------------------------------------------------------------------------
    @invariant()
    def balances_agree(self) -> None:
        accounts = ledger.get_accounts(self.conn, self.ids)
        for i, account_id in enumerate(self.ids):
            account = accounts[account_id]
            assert account.balance == self.balance[i], i
            assert account.available == self.available(i), i
            assert account.version == sum(1 for j, _, _ in self.entries if j == i), i
            if not ALLOW_NEGATIVE[i]:
                assert account.available >= 0


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_ledger_agrees_with_model(database_url: str) -> None:
    LedgerModel.database_url = database_url
    machine = LedgerModel.TestCase
    machine.settings = settings(max_examples=40, stateful_step_count=30, deadline=None,
                                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    machine().runTest()
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert ledger.reconcile(conn) == []
