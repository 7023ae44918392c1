"""Holds: reserve, post in full or in part, void, expire; available balance always counts them."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

import ledger
from tests.ledger.conftest import MakeAccount, assert_unchanged


def hold(conn: psycopg.Connection, src: ledger.Account, dst: ledger.Account, amount: int, **kw) -> ledger.Hold:
    kw.setdefault("hold_id", ledger.new_id())
    kw.setdefault("currency", src.currency)
    kw.setdefault("expires_at", datetime.now(UTC) + timedelta(hours=1))
    return ledger.create_hold(conn, from_account_id=src.id, to_account_id=dst.id, amount=amount, **kw)


def figures(conn: psycopg.Connection, account: ledger.Account) -> tuple[int, int]:
    fresh = ledger.get_account(conn, account.id)
    assert fresh is not None
    return fresh.balance, fresh.available


def test_hold_reserves_then_posts_in_part(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(1_000), make_account()
    h = hold(conn, a, b, 700, kind="card_payment", category="groceries", merchant="Shop")
    assert h.status == "pending" and figures(conn, a) == (1_000, 300) and figures(conn, b) == (0, 0)
    with assert_unchanged(conn), pytest.raises(ledger.InsufficientFunds):
        ledger.post_transfer(conn, transaction_id=ledger.new_id(), from_account_id=a.id, to_account_id=b.id,
                             amount=301, currency="EUR")
    tx_id = ledger.new_id()
    tx = ledger.post_hold(conn, h.id, 450, transaction_id=tx_id)
    assert tx.hold_id == h.id and tx.kind == "card_payment" and tx.category == "groceries"
    assert figures(conn, a) == (550, 550) and figures(conn, b) == (450, 450)
    posted = ledger.get_hold(conn, h.id)
    assert posted is not None and (posted.status, posted.posted_amount, posted.transaction_id) == ("posted", 450, tx_id)
    # Idempotent retry; any other settlement is refused.
    assert ledger.post_hold(conn, h.id, 450, transaction_id=tx_id).existing
    assert ledger.post_hold(conn, h.id, transaction_id=tx_id).existing
    with assert_unchanged(conn):
        with pytest.raises(ledger.ExistsWithDifferent):
            ledger.post_hold(conn, h.id, 449, transaction_id=tx_id)
        with pytest.raises(ledger.errors.HoldAlreadyPosted):
            ledger.post_hold(conn, h.id, transaction_id=ledger.new_id())
        with pytest.raises(ledger.errors.HoldAlreadyPosted):
            ledger.void_hold(conn, h.id)


def test_hold_posts_in_full_by_default(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(1_000), make_account()
    h = hold(conn, a, b, 1_000)
    assert figures(conn, a) == (1_000, 0)
    ledger.post_hold(conn, h.id, transaction_id=ledger.new_id())
    assert figures(conn, a) == (0, 0) and figures(conn, b) == (1_000, 1_000)


def test_void_releases_and_is_idempotent(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(500), make_account()
    h = hold(conn, a, b, 500)
    assert figures(conn, a) == (500, 0)
    assert ledger.void_hold(conn, h.id).status == "voided"
    assert figures(conn, a) == (500, 500)
    with assert_unchanged(conn):
        assert ledger.void_hold(conn, h.id).status == "voided"
        with pytest.raises(ledger.errors.HoldAlreadyVoided):
            ledger.post_hold(conn, h.id, transaction_id=ledger.new_id())


def test_hold_rejections_leave_nothing(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(1_000), make_account()
    frozen = make_account()
    ledger.set_account_status(conn, frozen.id, "frozen")
    h = hold(conn, a, b, 600)
    cases = [
        (ledger.InsufficientFunds, lambda: hold(conn, a, b, 401)),
        (ledger.AccountFrozen, lambda: hold(conn, a, frozen, 1)),
        (ledger.CurrencyMismatch, lambda: hold(conn, a, b, 1, currency="USD")),
        (ledger.SameAccount, lambda: hold(conn, a, a, 1)),
        (ledger.InvalidAmount, lambda: hold(conn, a, b, 0)),
        (ledger.errors.InvalidExpiry, lambda: hold(conn, a, b, 1, expires_at=datetime.now(UTC) - timedelta(seconds=1))),
        (ledger.errors.InvalidExpiry, lambda: hold(conn, a, b, 1, expires_at=datetime.now(UTC) + timedelta(days=91))),
        (ledger.errors.ExceedsHoldAmount, lambda: ledger.post_hold(conn, h.id, 601, transaction_id=ledger.new_id())),
        (ledger.errors.HoldNotFound, lambda: ledger.post_hold(conn, uuid.uuid4(), transaction_id=ledger.new_id())),
        (ledger.errors.HoldNotFound, lambda: ledger.void_hold(conn, uuid.uuid4())),
        (ledger.ExistsWithDifferent, lambda: hold(conn, a, b, 599, hold_id=h.id, expires_at=h.expires_at)),
    ]
    for error, call in cases:
        with assert_unchanged(conn), pytest.raises(error):
            call()
    assert hold(conn, a, b, 600, hold_id=h.id, expires_at=h.expires_at) == h  # identical retry


def test_expired_hold_stops_reserving_before_the_sweep(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(1_000), make_account()
    h = hold(conn, a, b, 800, expires_at=datetime.now(UTC) + timedelta(milliseconds=300))
    assert figures(conn, a) == (1_000, 200)
    time.sleep(0.35)
    assert figures(conn, a) == (1_000, 1_000)  # no longer reserved, though not swept yet
    with assert_unchanged(conn), pytest.raises(ledger.errors.HoldExpired):
        ledger.post_hold(conn, h.id, transaction_id=ledger.new_id())
    # A posting that needs the released funds sweeps the hold in the same transaction.
    ledger.post_transfer(conn, transaction_id=ledger.new_id(), from_account_id=a.id, to_account_id=b.id,
                         amount=900, currency="EUR")
    swept = ledger.get_hold(conn, h.id)
    assert swept is not None and swept.status == "expired"
    assert ledger.reconcile(conn) == []


def test_expire_holds_sweeps_up_to_now(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(1_000), make_account()
    soon = hold(conn, a, b, 100, expires_at=datetime.now(UTC) + timedelta(minutes=10))
    later = hold(conn, a, b, 200, expires_at=datetime.now(UTC) + timedelta(hours=10))
    assert ledger.expire_holds(conn, datetime.now(UTC) + timedelta(minutes=30)) >= 1
    soon_after, later_after = ledger.get_hold(conn, soon.id), ledger.get_hold(conn, later.id)
    assert soon_after is not None and later_after is not None
    assert soon_after.status == "expired" and later_after.status == "pending"
    assert figures(conn, a) == (1_000, 800)
    assert ledger.void_hold(conn, soon.id).status == "expired"  # nothing left to release
    assert [x.id for x in ledger.pending_holds(conn, a.id)] == [later.id]


def test_closing_needs_no_pending_hold(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(0, allow_negative=True), make_account()
    h = hold(conn, a, b, 10)
    with pytest.raises(ledger.errors.BalanceNotZero):
        ledger.set_account_status(conn, a.id, "closed")
    ledger.void_hold(conn, h.id)
    assert ledger.set_account_status(conn, a.id, "closed").status == "closed"


def test_hold_row_changes_only_once(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(100), make_account()
    h = hold(conn, a, b, 10)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE ledger_holds SET amount = 5 WHERE id = %s", (h.id,))
    ledger.void_hold(conn, h.id)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE ledger_holds SET status = 'pending', resolved_at = NULL WHERE id = %s", (h.id,))
