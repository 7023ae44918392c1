"""TransferBatcher and ledger_transfer_batch: many transfers per call, each judged on its own."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter

import psycopg

import ledger
from ledger.aio import BATCH_SQL, TransferBatcher, batch_params
from ledger.posting import transfer_request
from tests.ledger.conftest import MakeAccount


def test_batch_judges_each_transfer_on_its_own(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(100), make_account()
    frozen = make_account()
    ledger.set_account_status(conn, frozen.id, "frozen")
    first = ledger.new_id()

    def req(tx_id: uuid.UUID, src: ledger.Account, dst: ledger.Account, amount: int):
        return transfer_request(transaction_id=tx_id, from_account_id=src.id, to_account_id=dst.id, amount=amount,
                                currency="EUR")

    batch = [req(first, a, b, 60), req(ledger.new_id(), a, b, 60), req(ledger.new_id(), b, a, 10),
             req(first, a, b, 60), req(ledger.new_id(), a, frozen, 1), req(first, a, b, 61)]
    rows = conn.execute(BATCH_SQL, batch_params(batch)).fetchall()
    assert [(row[0], row[4]) for row in rows] == [
        ("ok", False), ("insufficient_funds", False), ("ok", False), ("ok", True), ("account_frozen", False),
        ("exists_with_different_amount", False)]
    assert rows[2][5] == [50, 50]  # b (then a) after the third transfer: it saw the first one
    fresh = ledger.get_account(conn, a.id)
    assert fresh is not None and (fresh.balance, fresh.version) == (50, 3)
    assert ledger.reconcile(conn) == []


async def _storm(url: str, accounts: list[uuid.UUID], frozen: uuid.UUID) -> tuple[Counter, list[BaseException]]:
    outcomes: Counter = Counter()
    unexpected: list[BaseException] = []
    shared = [ledger.new_id() for _ in range(15)]
    async with TransferBatcher(url, connections=4) as batcher:

        async def worker(seed: int) -> None:
            rng = random.Random(seed)
            for i in range(60):
                src, dst = rng.sample(accounts, 2)
                if i % 15 == 0:
                    dst = frozen
                tx_id = shared[i // 4] if i % 4 == 0 else ledger.new_id()
                if tx_id in shared:  # the same id from every worker: one creates it, the others see it
                    src, dst, amount = accounts[0], accounts[1], 1
                else:
                    amount = rng.randint(1, 3_000)
                try:
                    tx = await batcher.post_transfer(transaction_id=tx_id, from_account_id=src, to_account_id=dst,
                                                     amount=amount, currency="EUR")
                    outcomes["existing" if tx.existing else "ok"] += 1
                except ledger.LedgerError as exc:
                    outcomes[exc.code] += 1
                    if exc.code not in ("insufficient_funds", "account_frozen"):
                        unexpected.append(exc)
                except Exception as exc:
                    unexpected.append(exc)

        await asyncio.gather(*(worker(seed) for seed in range(16)))
        assert batcher.batches < batcher.transfers  # it did batch
    return outcomes, unexpected


def test_batcher_under_concurrency(database_url: str, conn: psycopg.Connection, make_account: MakeAccount) -> None:
    # accounts[0] pays the shared-id transfers: too rich to be drained, so each one is created exactly once.
    accounts = [make_account(10**9).id, *(make_account(20_000).id for _ in range(3))]
    frozen = make_account()
    ledger.set_account_status(conn, frozen.id, "frozen")
    outcomes, unexpected = asyncio.run(_storm(database_url, accounts, frozen.id))
    assert not unexpected, unexpected[:3]
    assert outcomes["ok"] > 0 and outcomes["insufficient_funds"] > 0 and outcomes["account_frozen"] > 0
    assert outcomes["existing"] == 16 * 15 - 15  # 15 shared ids, each posted by all 16 workers
    assert sum(outcomes.values()) == 16 * 60
    assert ledger.reconcile(conn) == []
    assert sum(a.balance for a in ledger.get_accounts(conn, accounts).values()) == 10**9 + 60_000
