"""Spending aggregates straight from entries (no summary table to drift).

Spending = money that left the given accounts in transactions of a spending kind (default: card
payments), as a positive number. Reversals carry the original's kind, category and merchant with the
opposite sign, so a reversed payment nets out in the period the reversal is booked. `count` is the
number of outgoing payments.

Cost: for each account, one range (account_id, effective_at in [start, end)) of the covering index
ledger_entries_account_time, which holds amount, kind, category and merchant: an index-only scan of
that customer's rows only, whatever the number of accounts in the ledger (docs/ledger.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from psycopg import sql

from ledger import limits
from ledger.currencies import check_currency
from ledger.errors import AccountNotFound, CurrencyMismatch, InvalidField, LimitExceeded
from ledger.ids import check_id
from ledger.models import SpendingGroup, SpendingTotals
from ledger.statements import add_entry_filters
from ledger.validate import check_instant, check_text

SPENDING_KINDS: tuple[str, ...] = ("card_payment",)

_GROUP_KEYS = {
    None: "NULL::text",
    "category": "e.category",
    "merchant": "e.merchant",
    "month": "to_char(e.effective_at AT TIME ZONE %(tz)s, 'YYYY-MM')",
    "day": "to_char(e.effective_at AT TIME ZONE %(tz)s, 'YYYY-MM-DD')",
}


def spending(
    conn: psycopg.Connection, *, account_ids: Sequence[uuid.UUID], start: datetime, end: datetime,
    category: str | None = None, merchant: str | None = None, group_by: str | None = None,
    kinds: Sequence[str] = SPENDING_KINDS, currency: str | None = None, tz: str = "UTC",
) -> SpendingTotals:
    """Total spent from `account_ids` with start <= effective_at < end, optionally filtered by category
    (exact) and merchant (case-insensitive), grouped by category, merchant, month or day (in `tz`).

    All accounts must hold one currency, or pass `currency` to count only the accounts holding it.
    Groups come largest first, at most MAX_SPENDING_GROUPS of them (`truncated` says when more exist);
    `total` and `count` always cover everything.
    """
    ids = sorted({check_id(a, "account_id") for a in account_ids})
    if not 1 <= len(ids) <= limits.MAX_QUERY_ACCOUNTS:
        raise LimitExceeded(f"spending covers 1 to {limits.MAX_QUERY_ACCOUNTS} accounts")
    check_instant(start, "start")
    check_instant(end, "end")
    if start >= end:
        raise InvalidField("start must be before end")
    check_text(category, "category", limits.MAX_CATEGORY_LEN)
    check_text(merchant, "merchant", limits.MAX_MERCHANT_LEN)
    if group_by not in _GROUP_KEYS:
        raise InvalidField("group_by must be category, merchant, month, day or None")
    kinds = list(kinds)
    if not 1 <= len(kinds) <= 16:
        raise LimitExceeded("give 1 to 16 spending kinds")
    for kind in kinds:
        check_text(kind, "kind", limits.MAX_KIND_LEN, required=True)
    if currency is not None:
        check_currency(currency)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidField(f"unknown time zone {tz!r}") from exc

    held = dict(conn.execute("SELECT id, currency FROM ledger_accounts WHERE id = ANY(%s::uuid[])",
                             (ids,)).fetchall())
    missing = [a for a in ids if a not in held]
    if missing:
        raise AccountNotFound(f"account {missing[0]} does not exist")
    if currency is None:
        currencies = set(held.values())
        if len(currencies) != 1:
            raise CurrencyMismatch(f"the accounts hold {sorted(currencies)}: pass currency= to pick one")
        currency = currencies.pop()
    ids = [a for a in ids if held[a] == currency]
    if not ids:
        return SpendingTotals(total=0, currency=currency, count=0, groups=[])

    where = ["e.account_id = ANY(%(ids)s::uuid[])", "e.effective_at >= %(start)s", "e.effective_at < %(end)s",
             "e.kind = ANY(%(kinds)s::text[])"]
    params: dict[str, Any] = {"ids": ids, "start": start, "end": end, "kinds": kinds, "tz": tz,
                              "max_groups": limits.MAX_SPENDING_GROUPS + 1}
    add_entry_filters(where, params, category, merchant)
    # Window sums over the grouped rows give the grand totals in the same scan, even when the group
    # list is cut at MAX_SPENDING_GROUPS.
    query = sql.SQL("""
        SELECT key, total, n, sum(total) OVER () AS grand_total, sum(n) OVER () AS grand_count
        FROM (SELECT {key} AS key, -sum(e.amount) AS total, count(*) FILTER (WHERE e.amount < 0) AS n
              FROM ledger_entries e
              WHERE {where}
              GROUP BY 1) g
        ORDER BY total DESC, key NULLS LAST
        LIMIT %(max_groups)s""").format(key=sql.SQL(_GROUP_KEYS[group_by]),
                                        where=sql.SQL(" AND ").join(sql.SQL(w) for w in where))
    rows = conn.execute(query, params).fetchall()
    if not rows:
        return SpendingTotals(total=0, currency=currency, count=0, groups=[])
    total, count = int(rows[0][3]), int(rows[0][4])
    if group_by is None:
        return SpendingTotals(total=total, currency=currency, count=count, groups=[])
    groups = [SpendingGroup(key=r[0], total=int(r[1]), count=int(r[2]))
              for r in rows[: limits.MAX_SPENDING_GROUPS]]
    assert sum(g.total for g in groups) == total or len(rows) > limits.MAX_SPENDING_GROUPS
    return SpendingTotals(total=total, currency=currency, count=count, groups=groups,
                          truncated=len(rows) > limits.MAX_SPENDING_GROUPS)
