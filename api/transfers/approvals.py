"""Approvals in the app for money asked for on a messaging channel.

A message on Telegram, Slack or SMS proves less than a signed-in app session: the phone may be lost, the
messaging account taken over. So when the assistant, in a channel conversation, executes a transfer worth
more than CHANNEL_APP_APPROVAL_ABOVE_MINOR (counted like the daily limit), the core records the confirmed
transfer as an approval instead of moving money; the customer approves (or declines) it in the app, with
their own session, and only then does the transfer run, once, under the approval's own idempotency key.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row

from api.config import Settings
from api.db_async import pg_pool
from api.transfers.service import daily_limit_amount

WEB = "web"
MAX_LIST = 50


class ApprovalError(Exception):
    """An approval cannot be requested or decided as asked."""


class KeyReused(ApprovalError):
    """The same Idempotency-Key was already used for another transfer."""


class ApprovalNotFound(ApprovalError):
    """No such approval for this customer."""


class ApprovalClosed(ApprovalError):
    """Declined, expired, or approved when declining was asked."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class Approval:
    id: uuid.UUID
    status: str  # waiting, approved, declined or expired
    channel: str
    body: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    transfer_id: uuid.UUID | None


def _approval(row: dict[str, Any]) -> Approval:
    status = "expired" if row["status"] == "waiting" and row["expired"] else row["status"]
    return Approval(id=row["id"], status=status, channel=row["channel"], body=row["body"],
                    created_at=row["created_at"], expires_at=row["expires_at"], transfer_id=row["transfer_id"])


# Each statement answers the same columns (an approval past its expiry reads as expired).
BY_KEY_SQL = """SELECT id, status, channel, body, created_at, expires_at, transfer_id, expires_at <= now() AS expired,
       request_hash
FROM transfer_approvals WHERE customer_id = %s AND idempotency_key = %s"""
WAITING_SQL = """SELECT id, status, channel, body, created_at, expires_at, transfer_id, expires_at <= now() AS expired
FROM transfer_approvals WHERE customer_id = %s AND status = 'waiting' AND expires_at > now()
ORDER BY created_at LIMIT %s"""
DECIDE_SQL = """UPDATE transfer_approvals SET status = %s, decided_at = now()
WHERE id = %s AND customer_id = %s AND status = 'waiting' AND expires_at > now()
RETURNING id, status, channel, body, created_at, expires_at, transfer_id, expires_at <= now() AS expired"""
BY_ID_SQL = """SELECT id, status, channel, body, created_at, expires_at, transfer_id, expires_at <= now() AS expired
FROM transfer_approvals WHERE id = %s AND customer_id = %s"""


async def channel_of(conversation_id: uuid.UUID) -> str:
    """The channel a conversation is on (the web chat when it is not found)."""
    async with (await pg_pool.get()).connection() as conn:
        row = await (await conn.execute("SELECT channel FROM conversations WHERE id = %s",
                                        (conversation_id,))).fetchone()
    return WEB if row is None else str(row[0])


def needs_approval(settings: Settings, *, channel: str, amount: int, currency: str) -> bool:
    """Whether a transfer asked for on this channel must also be approved in the app."""
    if channel == WEB:
        return False
    return daily_limit_amount(settings, amount=amount, currency=currency) > settings.channel_app_approval_above_minor


async def request(settings: Settings, *, customer_id: uuid.UUID, conversation_id: uuid.UUID, channel: str,
                  key: str, digest: str, body: dict[str, Any]) -> Approval:
    """Record the confirmed transfer for approval in the app; the same key and body find the same one."""
    async with (await pg_pool.get()).connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute(
            "INSERT INTO transfer_approvals (id, customer_id, conversation_id, channel, idempotency_key, request_hash, "
            "body, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, now() + make_interval(secs => %s)) "
            "ON CONFLICT (customer_id, idempotency_key) DO NOTHING", (
                uuid.uuid4(), customer_id, conversation_id, channel, key, digest, json.dumps(body),
                settings.transfer_approval_seconds))
        await cursor.execute(BY_KEY_SQL, (customer_id, key))
        row = await cursor.fetchone()
    assert row is not None, "inserted or already there"
    if row["request_hash"] != digest:
        raise KeyReused(key)
    return _approval(row)


async def waiting_for(*, customer_id: uuid.UUID) -> list[Approval]:
    """The customer's approvals still to decide, oldest first."""
    async with (await pg_pool.get()).connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute(WAITING_SQL, (customer_id, MAX_LIST))
        return [_approval(row) for row in await cursor.fetchall()]


async def decide(*, customer_id: uuid.UUID, approval_id: uuid.UUID, approve: bool) -> Approval:
    """Approve or decline a waiting approval, once; approving an approved one again answers it again (the
    transfer it runs is idempotent), so a retry after a lost response completes the same transfer."""
    async with (await pg_pool.get()).connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute(DECIDE_SQL, ("approved" if approve else "declined", approval_id, customer_id))
        row = await cursor.fetchone()
        if row is None:
            await cursor.execute(BY_ID_SQL, (approval_id, customer_id))
            row = await cursor.fetchone()
    if row is None:
        raise ApprovalNotFound(str(approval_id))
    approval = _approval(row)
    if approval.status != ("approved" if approve else "declined"):
        raise ApprovalClosed(approval.status)
    return approval


async def record_transfer(*, approval_id: uuid.UUID, transfer_id: uuid.UUID) -> None:
    """Note the transfer an approval ran."""
    async with (await pg_pool.get()).connection() as conn:
        await conn.execute("UPDATE transfer_approvals SET transfer_id = %s WHERE id = %s", (transfer_id, approval_id))
