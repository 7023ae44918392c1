"""Async variants of the hot-path calls, for asyncio callers (the benchmark, async services).

Same validation, SQL and result handling as ledger.posting: only the connection type differs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg

from ledger.models import Leg, Transaction
from ledger.posting import DEFAULT_TRANSFER_KIND, transaction_request, transfer_request


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
