"""Accounts: open (idempotent), read, list by owner, freeze / unfreeze / close."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from ledger import limits
from ledger.currencies import check_currency
from ledger.errors import ExistsWithDifferent, InvalidField, InvalidStatus, error_for
from ledger.ids import check_id, new_id
from ledger.models import Account
from ledger.validate import check_text

STATUSES = ("active", "frozen", "closed")

# available = posted balance - pending holds, where holds already past expiry (not yet swept by
# expire_holds) no longer count: the partial index ledger_holds_pending_by_account answers the sum.
_SELECT = """
SELECT a.id, a.owner_id, a.name, a.kind, a.currency, a.status, a.allow_negative, a.balance,
       a.pending_out - coalesce((SELECT sum(h.amount) FROM ledger_holds h
                                 WHERE h.from_account_id = a.id AND h.status = 'pending'
                                   AND h.expires_at <= clock_timestamp()), 0) AS pending,
       a.version, a.created_at
FROM ledger_accounts a
"""


def _account(row: tuple[Any, ...]) -> Account:
    (id_, owner_id, name, kind, currency, status, allow_negative, balance, pending, version, created_at) = row
    pending = int(pending)
    assert pending >= 0, (id_, pending)
    return Account(id=id_, owner_id=owner_id, name=name, kind=kind, currency=currency, status=status,
                   allow_negative=allow_negative, balance=balance, available=balance - pending,
                   pending=pending, version=version, created_at=created_at)


def open_account(
    conn: psycopg.Connection,
    *,
    owner_id: str | None,
    name: str,
    kind: str,
    currency: str,
    allow_negative: bool = False,
    account_id: uuid.UUID | None = None,
) -> Account:
    """Open an account with a zero balance. With `account_id`, opening it again with the same content
    returns the existing account, and different content raises exists_with_different_<field>."""
    account_id = new_id() if account_id is None else check_id(account_id, "account_id")
    check_text(owner_id, "owner_id", limits.MAX_OWNER_ID_LEN)
    check_text(name, "name", limits.MAX_NAME_LEN, required=True)
    check_text(kind, "kind", limits.MAX_KIND_LEN, required=True)
    check_currency(currency)
    if not isinstance(allow_negative, bool):
        raise InvalidField("allow_negative must be a bool")
    conn.execute(
        """INSERT INTO ledger_accounts (id, owner_id, name, kind, currency, allow_negative)
           VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING""",
        (account_id, owner_id, name, kind, currency, allow_negative),
    )
    account = get_account(conn, account_id)
    assert account is not None, account_id
    wanted = {"owner": owner_id, "name": name, "kind": kind, "currency": currency, "allow_negative": allow_negative}
    stored = {"owner": account.owner_id, "name": account.name, "kind": account.kind,
              "currency": account.currency, "allow_negative": account.allow_negative}
    for field, value in wanted.items():
        if stored[field] != value:
            raise ExistsWithDifferent(f"account {account_id} exists with a different {field}",
                                      code=ExistsWithDifferent.PREFIX + field)
    return account


def get_account(conn: psycopg.Connection, account_id: uuid.UUID) -> Account | None:
    row = conn.execute(_SELECT + " WHERE a.id = %s", (check_id(account_id, "account_id"),)).fetchone()
    return None if row is None else _account(row)


def get_accounts(conn: psycopg.Connection, account_ids: list[uuid.UUID]) -> dict[uuid.UUID, Account]:
    ids = [check_id(a, "account_id") for a in account_ids]
    rows = conn.execute(_SELECT + " WHERE a.id = ANY(%s::uuid[])", (ids,)).fetchall()
    return {row[0]: _account(row) for row in rows}


def accounts_for_owner(conn: psycopg.Connection, owner_id: str) -> list[Account]:
    """The owner's accounts, oldest first (closed ones included: callers filter on status)."""
    check_text(owner_id, "owner_id", limits.MAX_OWNER_ID_LEN, required=True)
    rows = conn.execute(_SELECT + " WHERE a.owner_id = %s ORDER BY a.created_at, a.id", (owner_id,)).fetchall()
    return [_account(row) for row in rows]


def set_account_status(conn: psycopg.Connection, account_id: uuid.UUID, status: str) -> Account:
    """active <-> frozen; closed is final and needs a zero balance and no pending hold.

    A frozen or closed account takes part in no new posting or hold (reversals may touch a frozen one);
    voiding a hold on it still works.
    """
    if status not in STATUSES:
        raise InvalidStatus(f"status must be one of {', '.join(STATUSES)}")
    account_id = check_id(account_id, "account_id")
    code, detail = conn.execute("SELECT * FROM ledger_set_status(%s, %s)", (account_id, status)).fetchone()
    if code != "ok":
        raise error_for(code, detail)
    account = get_account(conn, account_id)
    assert account is not None and account.status == status
    return account
