"""Concurrency storm: 16 workers post thousands of random transfers, holds, reversals and duplicate ids
among a few accounts (one hot). Only typed business rejections may surface; afterwards every transaction
balances, stored balances equal the replay of the entries, and no non-negative account ever went below
zero."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

import ledger

WORKERS = 16
OPS_PER_WORKER = 220
SHARED_DUPLICATES = 48  # transfers every worker posts with the same id: exactly one must create each

EXPECTED_REJECTIONS = {
    "insufficient_funds", "account_frozen", "same_account", "currency_mismatch", "hold_already_posted",
    "hold_already_voided", "already_reversed",
}


@dataclass(frozen=True)
class Setup:
    bank: uuid.UUID
    hot: uuid.UUID
    others: tuple[uuid.UUID, ...]
    frozen: uuid.UUID
    usd: uuid.UUID
    duplicates: tuple[tuple[uuid.UUID, uuid.UUID, int], ...]

    @property
    def customers(self) -> tuple[uuid.UUID, ...]:
        return (self.hot, *self.others)


def setup_accounts(conn: psycopg.Connection) -> Setup:
    def account(name: str, *, allow_negative: bool = False, currency: str = "EUR") -> uuid.UUID:
        return ledger.open_account(conn, owner_id="storm", name=name, kind="checking", currency=currency,
                                   allow_negative=allow_negative).id

    bank = account("bank", allow_negative=True)
    hot, others = account("hot"), tuple(account(f"cold{i}") for i in range(4))
    frozen, usd = account("frozen"), account("usd", currency="USD")
    for target, amount in ((hot, 200_000), *((o, 20_000) for o in others)):
        ledger.post_transfer(conn, transaction_id=ledger.new_id(), from_account_id=bank, to_account_id=target,
                             amount=amount, currency="EUR", kind="deposit")
    ledger.set_account_status(conn, frozen, "frozen")
    rng = random.Random(7)
    duplicates = tuple((ledger.new_id(), rng.choice((hot, *others)), rng.randint(1, 500))
                       for _ in range(SHARED_DUPLICATES))
    return Setup(bank, hot, others, frozen, usd, duplicates)


def worker(url: str, setup: Setup, seed: int, outcomes: Counter, unexpected: list, created_dupes: Counter,
           lock: threading.Lock, start: threading.Barrier) -> None:
    rng = random.Random(seed)
    explicit_tx = seed % 2 == 1  # half the workers post inside explicit transactions, like the core
    local: Counter = Counter()
    my_txs: list[uuid.UUID] = []
    my_holds: list[uuid.UUID] = []
    dupes = list(setup.duplicates)
    rng.shuffle(dupes)
    plan = ["dupe"] * len(dupes) + [
        rng.choices(["transfer", "hot", "frozen", "invalid", "hold", "settle", "reverse"],
                    weights=[30, 30, 4, 4, 12, 12, 8])[0] for _ in range(OPS_PER_WORKER)]
    rng.shuffle(plan)
    with psycopg.connect(url, autocommit=not explicit_tx) as conn:
        start.wait()
        for op in plan:
            try:
                if op == "dupe":
                    tx_id, target, amount = dupes.pop()
                    tx = ledger.post_transfer(conn, transaction_id=tx_id, from_account_id=setup.bank,
                                              to_account_id=target, amount=amount, currency="EUR", kind="deposit")
                    if not tx.existing:
                        with lock:
                            created_dupes[tx_id] += 1
                elif op in ("transfer", "hot"):
                    src, dst = rng.sample(setup.customers, 2)
                    if op == "hot":
                        src, dst = rng.choice([(setup.hot, dst if dst != setup.hot else src),
                                               (src if src != setup.hot else dst, setup.hot)])
                    tx = ledger.post_transfer(conn, transaction_id=ledger.new_id(), from_account_id=src,
                                              to_account_id=dst, amount=rng.randint(1, 12_000), currency="EUR",
                                              kind="card_payment", category="shopping")
                    my_txs.append(tx.id)
                elif op == "frozen":
                    src = rng.choice(setup.customers)
                    pair = (src, setup.frozen) if rng.random() < 0.5 else (setup.frozen, src)
                    ledger.post_transfer(conn, transaction_id=ledger.new_id(), from_account_id=pair[0],
                                         to_account_id=pair[1], amount=1, currency="EUR")
                elif op == "invalid":
                    src = rng.choice(setup.customers)
                    dst = src if rng.random() < 0.5 else setup.usd
                    ledger.post_transfer(conn, transaction_id=ledger.new_id(), from_account_id=src, to_account_id=dst,
                                         amount=5, currency="EUR")
                elif op == "hold":
                    src, dst = rng.sample(setup.customers, 2)
                    h = ledger.create_hold(conn, hold_id=ledger.new_id(), from_account_id=src, to_account_id=dst,
                                           amount=rng.randint(1, 8_000), currency="EUR",
                                           expires_at=datetime.now(UTC) + timedelta(minutes=10))
                    my_holds.append(h.id)
                elif op == "settle" and my_holds:
                    hold_id = rng.choice(my_holds)
                    if rng.random() < 0.5:
                        ledger.void_hold(conn, hold_id)
                    else:
                        ledger.post_hold(conn, hold_id, transaction_id=ledger.new_id())
                elif op == "reverse" and my_txs:
                    ledger.reverse_transaction(conn, transaction_id=ledger.new_id(), original_id=rng.choice(my_txs),
                                               reason="storm")
                if explicit_tx:
                    conn.commit()
                local["ok"] += 1
            except ledger.LedgerError as exc:
                if explicit_tx:
                    conn.rollback()
                local[exc.code] += 1
                if exc.code not in EXPECTED_REJECTIONS:
                    unexpected.append(exc)
            except Exception as exc:  # deadlocks, serialization failures, bugs: all fail the test
                if explicit_tx:
                    conn.rollback()
                unexpected.append(exc)
    with lock:
        outcomes.update(local)


def test_concurrency_storm(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        setup = setup_accounts(conn)
    outcomes: Counter = Counter()
    created_dupes: Counter = Counter()
    unexpected: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(WORKERS)
    threads = [threading.Thread(target=worker, args=(database_url, setup, seed, outcomes, unexpected, created_dupes,
                                                     lock, start)) for seed in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads)
    print(f"storm outcomes: {dict(outcomes)}")
    assert not unexpected, f"{len(unexpected)} unexpected errors, first: {unexpected[0]!r}"
    total = sum(outcomes.values())
    assert total == WORKERS * (OPS_PER_WORKER + SHARED_DUPLICATES)
    assert outcomes["ok"] > total // 2
    for code in ("insufficient_funds", "account_frozen", "same_account", "currency_mismatch"):
        assert outcomes[code] > 0, (code, outcomes)
    # Every duplicate id was created exactly once, whatever the race.
    assert sorted(created_dupes.values()) == [1] * SHARED_DUPLICATES

    with psycopg.connect(database_url, autocommit=True) as conn:
        assert ledger.reconcile(conn) == []  # balances = replay, every transaction balances, no negatives
        ids = [setup.bank, *setup.customers, setup.frozen]
        low = conn.execute(
            """SELECT min(e.balance_after) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
               WHERE e.account_id = ANY(%s::uuid[]) AND NOT a.allow_negative""", (ids,)).fetchone()
        assert low is not None and low[0] >= 0
        accounts = ledger.get_accounts(conn, ids)
        assert sum(a.balance for a in accounts.values()) == 0  # money is conserved
        assert all(a.available >= 0 for a in accounts.values() if not a.allow_negative)
        unbalanced = conn.execute(
            """SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries WHERE account_id = ANY(%s::uuid[])
               GROUP BY transaction_id HAVING sum(amount) <> 0) s""", (ids,)).fetchone()
        assert unbalanced == (0,)
