"""Ledger test fixtures: accounts are created fresh per test (the ledger never deletes anything)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest

import ledger

Fingerprint = tuple[object, ...]


@pytest.fixture()
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    """Autocommit: each ledger call is its own database transaction."""
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


def bank_account(conn: psycopg.Connection, currency: str = "EUR") -> uuid.UUID:
    """The bank's funding account for a currency (may go negative), shared by the tests."""
    account = ledger.open_account(conn, owner_id=None, name=f"Test funding {currency}", kind="bank_funding",
                                  currency=currency, allow_negative=True,
                                  account_id=uuid.uuid5(uuid.NAMESPACE_URL, f"test-bank-{currency}"))
    return account.id


MakeAccount = Callable[..., ledger.Account]


@pytest.fixture()
def make_account(conn: psycopg.Connection) -> MakeAccount:
    def make(balance: int = 0, *, currency: str = "EUR", allow_negative: bool = False, owner_id: str | None = None,
             kind: str = "checking", name: str = "test account") -> ledger.Account:
        account = ledger.open_account(conn, owner_id=owner_id, name=name, kind=kind, currency=currency,
                                      allow_negative=allow_negative)
        if balance:
            ledger.post_transfer(conn, transaction_id=ledger.new_id(), from_account_id=bank_account(conn, currency),
                                 to_account_id=account.id, amount=balance, currency=currency, kind="deposit")
        fresh = ledger.get_account(conn, account.id)
        assert fresh is not None and fresh.balance == balance
        return fresh

    return make


def fingerprint(conn: psycopg.Connection) -> Fingerprint:
    """Everything a posting could change: row counts and every account's and hold's mutable state."""
    row = conn.execute(
        """SELECT (SELECT count(*) FROM ledger_accounts), (SELECT count(*) FROM ledger_transactions),
                  (SELECT count(*) FROM ledger_entries), (SELECT count(*) FROM ledger_holds),
                  (SELECT md5(string_agg(concat_ws(':', id, balance, pending_out, version, status), ',' ORDER BY id))
                   FROM ledger_accounts),
                  (SELECT md5(string_agg(concat_ws(':', id, status, posted_amount), ',' ORDER BY id))
                   FROM ledger_holds)""").fetchone()
    assert row is not None
    return tuple(row)


@contextmanager
def assert_unchanged(conn: psycopg.Connection) -> Iterator[None]:
    """The block must leave the ledger exactly as it found it (used around rejected calls)."""
    before = fingerprint(conn)
    yield
    assert fingerprint(conn) == before, "a rejected call changed the database"
