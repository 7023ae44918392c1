"""The transfer writer: the transfers a worker has ready at one moment, written in one database call.

Each transfer's write (posting, transfer row, audit row, daily total, idempotency record) is a few
inserts and updates, but the call, its locks and its commit cost more than the rows: under load,
sharing them (api/batching.py) is what keeps PostgreSQL's time per transfer low.

transfers_record_batch() (migrations/versions/0007_transfer_record.py) judges every item on its own:
a rejected transfer writes nothing and does not affect the others. If a whole call fails (a database
error, not a rejection), each of its transfers is retried alone, so one transfer's error reaches only
its own request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from api.batching import per_loop_batcher
from api.db_async import pg_pool

MAX_BATCH = 64  # transfers per call: bounds one call's locks and the latency added to its last item
WRITE_SQL = "SELECT idx, code, detail FROM transfers_record_batch(%s::jsonb) ORDER BY idx"


@dataclass(frozen=True)
class Written:
    code: str  # 'ok', 'daily_limit_exceeded' or a ledger rejection code
    detail: str | None


async def write_batch(items: list[dict[str, Any]]) -> list[Written]:
    """Write transfers (the fields of transfers_record_batch's items, JSON-ready) in one call."""
    assert 1 <= len(items) <= MAX_BATCH <= 256  # 256: the SQL function's own limit
    numbered = [{**item, "idx": index} for index, item in enumerate(items)]
    async with (await pg_pool.get()).connection() as conn:
        rows = await (await conn.execute(WRITE_SQL, (json.dumps(numbered),))).fetchall()
    assert [row[0] for row in rows] == list(range(len(items))), "one result per item, in order"
    return [Written(code, detail) for _, code, detail in rows]


transfer_writer = per_loop_batcher(write_batch, max_batch=MAX_BATCH, retry_alone=True)
