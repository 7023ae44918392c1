"""Balances: posted and available now, and the posted balance at any past instant."""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg

from ledger.accounts import get_account
from ledger.errors import AccountNotFound
from ledger.ids import check_id
from ledger.validate import check_instant


def balance(conn: psycopg.Connection, account_id: uuid.UUID) -> tuple[int, int]:
    """(posted, available) now, in minor units."""
    account = get_account(conn, account_id)
    if account is None:
        raise AccountNotFound(f"account {account_id} does not exist")
    return account.balance, account.available


def balance_as_of(conn: psycopg.Connection, account_id: uuid.UUID, instant: datetime) -> int:
    """The posted balance at `instant` on the effective-time axis: the exact sum of the account's
    entries with effective_at <= instant (back-dated entries count from their effective time).

    One range of ledger_entries_account_time, summed from the index (amount is a covering column), so
    the cost is the number of the account's entries before `instant` (a year of card spending is a
    few thousand index tuples). Pending holds never count.
    """
    account_id = check_id(account_id, "account_id")
    check_instant(instant, "instant")
    row = conn.execute(
        """SELECT (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e
                   WHERE e.account_id = a.id AND e.effective_at <= %s)
           FROM ledger_accounts a WHERE a.id = %s""",
        (instant, account_id)).fetchone()
    if row is None:
        raise AccountNotFound(f"account {account_id} does not exist")
    return int(row[0])
