"""The transfer writer: the transfers a worker has ready at one moment, written in one database call.

Each transfer's write (posting, transfer row, audit row, daily total, idempotency record) is a few
inserts and updates, but the call, its locks and its commit cost more than the rows: under load,
sharing them is what keeps PostgreSQL's time per transfer low. Batches form on their own, with no
timer: a transfer that finds the writer idle is written at once (alone, at no extra latency); the
ones that arrive while a call is running are written together by the next call.

transfers_record_batch() (migrations/versions/0007_transfer_record.py) judges every item on its own:
a rejected transfer writes nothing and does not affect the others. If a whole call fails (a database
error, not a rejection), each of its transfers is retried alone, so one transfer's error reaches only
its own request.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection

from api.db_async import PerLoop, pg_pool

MAX_BATCH = 64  # transfers per call: bounds one call's locks and the latency added to its last item
WRITE_SQL = "SELECT idx, code, detail FROM transfers_record_batch(%s::jsonb) ORDER BY idx"


@dataclass(frozen=True)
class Written:
    code: str  # 'ok', 'daily_limit_exceeded' or a ledger rejection code
    detail: str | None


class TransferWriter:
    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        assert 1 <= max_batch <= 256  # the SQL function's own limit
        self.max_batch = max_batch
        self._waiting: deque[tuple[dict[str, Any], asyncio.Future[Written]]] = deque()
        self._draining = False

    async def write(self, item: dict[str, Any]) -> Written:
        """Write one transfer (the fields of transfers_record_batch's items, JSON-ready)."""
        future: asyncio.Future[Written] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = [self._waiting.popleft() for _ in range(min(self.max_batch, len(self._waiting)))]
                await self._write(batch)
        finally:
            self._draining = False

    async def _write(self, batch: list[tuple[dict[str, Any], asyncio.Future[Written]]]) -> None:
        try:
            async with (await pg_pool.get()).connection() as conn:
                results = await _call(conn, [item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            for one in batch:  # alone, each gets its own result or error
                await self._write([one])
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)


async def _call(conn: AsyncConnection, items: list[dict[str, Any]]) -> list[Written]:
    numbered = [{**item, "idx": index} for index, item in enumerate(items)]
    rows = await (await conn.execute(WRITE_SQL, (json.dumps(numbered),))).fetchall()
    assert [row[0] for row in rows] == list(range(len(items))), "one result per item, in order"
    return [Written(code, detail) for _, code, detail in rows]


def _settle(future: asyncio.Future[Written], outcome: Written | BaseException) -> None:
    if future.done():  # its request was cancelled (client gone): the write stands, nobody is waiting
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


async def _open_writer() -> TransferWriter:
    return TransferWriter()


async def _close_writer(writer: TransferWriter) -> None:
    return None  # nothing to release: pending writes finish with their requests


transfer_writer: PerLoop[TransferWriter] = PerLoop(_open_writer, _close_writer)
