"""Async variants of the hot-path calls, for asyncio callers (the benchmark, async services), and
TransferBatcher, which posts many concurrent transfers per database call and commit.

Same validation, SQL and result handling as ledger.posting: only the connection type differs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg

from ledger import limits
from ledger.errors import LedgerError
from ledger.models import Leg, Transaction
from ledger.posting import DEFAULT_TRANSFER_KIND, PostRequest, transaction_request, transfer_request


async def post_transfer(
    conn: psycopg.AsyncConnection, *, transaction_id: uuid.UUID, from_account_id: uuid.UUID,
    to_account_id: uuid.UUID, amount: int, currency: str, kind: str = DEFAULT_TRANSFER_KIND,
    reference: str | None = None, metadata: Mapping[str, Any] | None = None, category: str | None = None,
    merchant: str | None = None, effective_at: datetime | None = None,
) -> Transaction:
    """See ledger.posting.post_transfer."""
    request = transfer_request(
        transaction_id=transaction_id, from_account_id=from_account_id, to_account_id=to_account_id,
        amount=amount, currency=currency, kind=kind, reference=reference, metadata=metadata,
        category=category, merchant=merchant, effective_at=effective_at)
    cursor = await conn.execute(request.sql, request.params())
    return request.transaction(await cursor.fetchone())


async def post_transaction(
    conn: psycopg.AsyncConnection, *, transaction_id: uuid.UUID, kind: str, legs: Sequence[Leg],
    reference: str | None = None, metadata: Mapping[str, Any] | None = None, category: str | None = None,
    merchant: str | None = None, effective_at: datetime | None = None,
) -> Transaction:
    """See ledger.posting.post_transaction."""
    request = transaction_request(transaction_id=transaction_id, kind=kind, legs=legs, reference=reference,
                                  metadata=metadata, category=category, merchant=merchant,
                                  effective_at=effective_at)
    cursor = await conn.execute(request.sql, request.params())
    return request.transaction(await cursor.fetchone())


BATCH_SQL = (
    "SELECT code, detail, created_at, effective_at, existing, balances, versions, currencies"
    " FROM ledger_transfer_batch(%s::uuid[], %s::uuid[], %s::uuid[], %s::bigint[], %s::text[], %s::text[],"
    " %s::text[], %s::jsonb[], %s::text[], %s::text[], %s::timestamptz[])"
)

_Waiting = tuple[PostRequest, "asyncio.Future[Transaction]"]


def batch_params(requests: Sequence[PostRequest]) -> tuple[list[Any], ...]:
    """The arrays of ledger_transfer_batch, one element per transfer."""
    assert requests and all(r.is_transfer for r in requests)
    rows = [r.params() for r in requests]
    return tuple(list(column) for column in zip(*rows, strict=True))


class TransferBatcher:
    """Posts concurrent transfers in batches: one call of ledger_transfer_batch, one commit, many transfers.

    For services that post many transfers concurrently (bulk ingest, a posting service): every
    `post_transfer` call still gets its own result, durable when it returns, and its own typed error;
    transfers only share the database transaction (a rejection never affects the others, because the
    ledger functions never raise for one).

    Dispatch never waits on a timer. At the end of each event-loop iteration, the waiting transfers that
    touch no account of a batch in flight leave: those sharing accounts together in one batch (in
    arrival order), independent ones spread over the free connections (a batch of one uses the plain
    single-transfer call). A transfer touching an account in flight waits for that batch and then
    leaves with the others that waited, so a hot account is locked and committed once per batch instead
    of once per transfer, and this client never queues on its own row locks inside PostgreSQL.
    """

    def __init__(self, conninfo: str, *, connections: int = 8, max_batch: int = limits.MAX_BATCH) -> None:
        assert 1 <= connections <= 64, "connections must be between 1 and 64"
        assert 1 <= max_batch <= limits.MAX_BATCH, f"max_batch must be between 1 and {limits.MAX_BATCH}"
        self._conninfo = conninfo
        self._size = connections
        self._max_batch = max_batch
        self._free: list[psycopg.AsyncConnection] = []
        self._waiting: deque[_Waiting] = deque()
        self._in_flight: Counter[uuid.UUID] = Counter()  # accounts of the batches being posted
        self._tasks: set[asyncio.Task[None]] = set()
        self._open = False
        self._dispatch_scheduled = False
        self.batches = 0  # statistics: calls made and transfers sent
        self.transfers = 0

    async def __aenter__(self) -> TransferBatcher:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        assert not self._open
        self._free = [await self._connect() for _ in range(self._size)]
        self._open = True

    async def close(self) -> None:
        """Finish what was sent (and what waits for it), then close the connections."""
        self._open = False
        while self._tasks or (self._waiting and self._dispatch_scheduled):
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            else:
                await asyncio.sleep(0)
        for _, future in self._waiting:  # only possible if every connection broke
            if not future.done():
                future.set_exception(RuntimeError("the batcher closed before posting this transfer"))
        self._waiting.clear()
        for conn in self._free:
            await conn.close()
        self._free = []

    async def _connect(self) -> psycopg.AsyncConnection:
        return await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)

    async def post_transfer(
        self, *, transaction_id: uuid.UUID, from_account_id: uuid.UUID, to_account_id: uuid.UUID, amount: int,
        currency: str, kind: str = DEFAULT_TRANSFER_KIND, reference: str | None = None,
        metadata: Mapping[str, Any] | None = None, category: str | None = None, merchant: str | None = None,
        effective_at: datetime | None = None,
    ) -> Transaction:
        """See ledger.posting.post_transfer; committed when this returns."""
        if not self._open:
            raise RuntimeError("the batcher is not open")
        request = transfer_request(
            transaction_id=transaction_id, from_account_id=from_account_id, to_account_id=to_account_id,
            amount=amount, currency=currency, kind=kind, reference=reference, metadata=metadata,
            category=category, merchant=merchant, effective_at=effective_at)
        future: asyncio.Future[Transaction] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        self._schedule_dispatch()
        return await future

    def _schedule_dispatch(self) -> None:
        # After the callers woken in this loop iteration have queued their next transfers, so that
        # transfers arriving together leave together (no timer, just the end of the iteration).
        if not self._dispatch_scheduled:
            self._dispatch_scheduled = True
            asyncio.get_running_loop().call_soon(self._dispatch)

    def _dispatch(self) -> None:
        self._dispatch_scheduled = False
        while self._free and self._waiting:
            # Transfers that touch no account of a batch in flight may leave now; the rest wait for it.
            ready: list[_Waiting] = []
            held: list[_Waiting] = []
            for item in self._waiting:
                legs = item[0].legs
                busy = self._in_flight[legs[0].account_id] or self._in_flight[legs[1].account_id]
                (held if busy or len(ready) == self._max_batch else ready).append(item)
            self._waiting = deque(held)  # order kept: the oldest go first next time
            if not ready:
                return
            for batch in self._split(ready, len(self._free)):
                accounts = {leg.account_id for request, _ in batch for leg in request.legs}
                for account in accounts:
                    self._in_flight[account] += 1
                task = asyncio.create_task(self._post(self._free.pop(), batch, accounts))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                self.batches += 1
                self.transfers += len(batch)

    @staticmethod
    def _split(ready: list[_Waiting], connections: int) -> list[list[_Waiting]]:
        """Group the transfers that share accounts (a group must run in one batch, in arrival order),
        then spread the groups over the free connections: independent batches run in parallel and
        share group commits, while all transfers of a hot account go in one batch."""
        assert ready and connections >= 1
        parent: dict[uuid.UUID, uuid.UUID] = {}

        def root(account: uuid.UUID) -> uuid.UUID:
            parent.setdefault(account, account)
            while parent[account] != account:
                parent[account] = parent[parent[account]]
                account = parent[account]
            return account

        for request, _ in ready:
            parent[root(request.legs[0].account_id)] = root(request.legs[1].account_id)
        groups: dict[uuid.UUID, list[int]] = {}
        for position, (request, _) in enumerate(ready):
            groups.setdefault(root(request.legs[0].account_id), []).append(position)
        bins: list[list[int]] = [[] for _ in range(min(connections, len(groups)))]
        for group in sorted(groups.values(), key=len, reverse=True):
            min(bins, key=len).extend(group)
        return [[ready[position] for position in sorted(positions)] for positions in bins]

    async def _post(self, conn: psycopg.AsyncConnection, batch: list[_Waiting], accounts: set[uuid.UUID]) -> None:
        try:
            if len(batch) == 1:  # the cheaper single-transfer call
                request = batch[0][0]
                cursor = await conn.execute(request.sql, request.params())
            else:
                cursor = await conn.execute(BATCH_SQL, batch_params([request for request, _ in batch]))
            rows = await cursor.fetchall()
            assert len(rows) == len(batch), "one result per transfer"
            for (request, future), row in zip(batch, rows, strict=True):
                if future.done():  # the caller went away (cancelled)
                    continue
                try:
                    future.set_result(request.transaction(row))
                except LedgerError as exc:
                    future.set_exception(exc)
        except Exception as exc:  # a server or connection failure fails this batch only
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if conn.broken:
                await conn.close()
                conn = await self._connect()
        finally:
            for account in accounts:
                self._in_flight[account] -= 1
                if not self._in_flight[account]:
                    del self._in_flight[account]
            self._free.append(conn)
            self._schedule_dispatch()
