"""Account statements: entries newest first, keyset-paginated (no OFFSET, stable under inserts).

Order: effective_at DESC, account_id DESC, version DESC. The cursor is the last row's key; each account
is read with one bounded range scan of ledger_entries_account_time (LATERAL ... LIMIT), then merged,
so a page costs O(accounts x page size) whatever the history length.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from ledger import limits
from ledger.errors import InvalidCursor, InvalidField, LimitExceeded
from ledger.ids import check_id
from ledger.models import Page, StatementItem
from ledger.validate import check_instant, check_page_size, check_text

_CURSOR_VERSION = "v1"
_MAX_VERSION = 2**63 - 1


def encode_cursor(effective_at: datetime, account_id: uuid.UUID, version: int) -> str:
    raw = f"{_CURSOR_VERSION}|{effective_at.isoformat()}|{account_id}|{version}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, instant, account, version = raw.split("|")
        assert tag == _CURSOR_VERSION
        result = datetime.fromisoformat(instant), uuid.UUID(account), int(version)
        assert result[0].tzinfo is not None and 1 <= result[2] <= _MAX_VERSION
        return result
    except (ValueError, AssertionError, UnicodeDecodeError) as exc:
        raise InvalidCursor("the cursor is not one this ledger issued") from exc


def add_entry_filters(where: list[str], params: dict[str, Any], category: str | None,
                      merchant: str | None) -> None:
    """The filters statements and spending share: category exactly, merchant case-insensitively."""
    if category is not None:
        where.append("e.category = %(category)s")
        params["category"] = category
    if merchant is not None:
        where.append("lower(e.merchant) = lower(%(merchant)s)")
        params["merchant"] = merchant


def _account_ids(conn: psycopg.Connection, account_id: uuid.UUID | None,
                 account_ids: Sequence[uuid.UUID] | None, owner_id: str | None) -> list[uuid.UUID]:
    given = [x is not None for x in (account_id, account_ids, owner_id)]
    if sum(given) != 1:
        raise InvalidField("give exactly one of account_id, account_ids, owner_id")
    if account_id is not None:
        return [check_id(account_id, "account_id")]
    if account_ids is not None:
        ids = sorted({check_id(a, "account_id") for a in account_ids})
    else:
        check_text(owner_id, "owner_id", limits.MAX_OWNER_ID_LEN, required=True)
        ids = [row[0] for row in conn.execute(
            "SELECT id FROM ledger_accounts WHERE owner_id = %s ORDER BY id LIMIT %s",
            (owner_id, limits.MAX_QUERY_ACCOUNTS + 1)).fetchall()]
    if len(ids) > limits.MAX_QUERY_ACCOUNTS:
        raise LimitExceeded(f"a statement covers at most {limits.MAX_QUERY_ACCOUNTS} accounts")
    return ids


def statement(
    conn: psycopg.Connection, account_id: uuid.UUID | None = None, *, account_ids: Sequence[uuid.UUID] | None = None,
    owner_id: str | None = None, start: datetime | None = None, end: datetime | None = None,
    category: str | None = None, merchant: str | None = None, limit: int = limits.DEFAULT_PAGE_SIZE,
    after_cursor: str | None = None,
) -> Page:
    """One page of posted entries of an account (or several, or all of an owner's), newest first.

    `start` is inclusive and `end` exclusive (effective time); `category` matches exactly, `merchant`
    case-insensitively. Pass the returned `next_cursor` as `after_cursor` for the next page.
    """
    ids = _account_ids(conn, account_id, account_ids, owner_id)
    check_page_size(limit)
    check_text(category, "category", limits.MAX_CATEGORY_LEN)
    check_text(merchant, "merchant", limits.MAX_MERCHANT_LEN)
    if start is not None:
        check_instant(start, "start")
    if end is not None:
        check_instant(end, "end")
    if start is not None and end is not None and start >= end:
        raise InvalidField("start must be before end")
    if not ids:
        return Page(items=[], next_cursor=None)

    where = ["e.account_id = a.id"]
    params: dict[str, Any] = {"ids": ids, "n": limit + 1}
    if start is not None:
        where.append("e.effective_at >= %(start)s")
        params["start"] = start
    if end is not None:
        where.append("e.effective_at < %(end)s")
        params["end"] = end
    add_entry_filters(where, params, category, merchant)
    if after_cursor is not None:
        c_eff, c_acc, c_ver = decode_cursor(after_cursor)
        # (effective_at, account_id, version) < cursor, rewritten per account as a 2-column bound the
        # index range can use: accounts ordered before the cursor's may repeat its effective_at.
        where.append("(e.effective_at, e.version) < (%(c_eff)s, CASE WHEN a.id < %(c_acc)s THEN %(max_v)s"
                     " WHEN a.id = %(c_acc)s THEN %(c_ver)s ELSE 0 END)")
        params.update(c_eff=c_eff, c_acc=c_acc, c_ver=c_ver, max_v=_MAX_VERSION)
    query = sql.SQL("""
        SELECT x.transaction_id, x.account_id, x.version, x.effective_at, x.created_at, x.amount, x.currency,
               x.balance_after, x.kind, x.category, x.merchant, x.reference, x.reverses_id, x.reversed
        FROM unnest(%(ids)s::uuid[]) AS a(id)
        CROSS JOIN LATERAL (
            SELECT e.*, EXISTS (SELECT 1 FROM ledger_reversals rv WHERE rv.original_id = e.transaction_id) AS reversed
            FROM ledger_entries e
            WHERE {where}
            ORDER BY e.effective_at DESC, e.version DESC
            LIMIT %(n)s) x
        ORDER BY x.effective_at DESC, x.account_id DESC, x.version DESC
        LIMIT %(n)s""").format(where=sql.SQL(" AND ").join(sql.SQL(w) for w in where))
    rows = conn.execute(query, params).fetchall()
    items = [
        StatementItem(transaction_id=r[0], account_id=r[1], version=r[2], effective_at=r[3], posted_at=r[4],
                      amount=r[5], currency=r[6], balance_after=r[7], kind=r[8], category=r[9], merchant=r[10],
                      description=r[11], reverses_id=r[12],
                      status="reversal" if r[12] is not None else "reversed" if r[13] else "posted")
        for r in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(last.effective_at, last.account_id, last.version)
    return Page(items=items, next_cursor=next_cursor)
