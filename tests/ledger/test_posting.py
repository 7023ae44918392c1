"""Posting: transfers, multi-leg transactions, idempotent ids, and every rejection leaving nothing behind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

import ledger
from ledger import limits
from ledger.errors import ERROR_CODES
from tests.ledger.conftest import MakeAccount, assert_unchanged


def transfer(conn: psycopg.Connection, src: ledger.Account, dst: ledger.Account, amount: int,
             **kw) -> ledger.Transaction:
    kw.setdefault("transaction_id", ledger.new_id())
    kw.setdefault("currency", src.currency)
    return ledger.post_transfer(conn, from_account_id=src.id, to_account_id=dst.id, amount=amount, **kw)


def test_transfer_moves_money_from_source_to_destination(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(10_000), make_account(0)
    tx = transfer(conn, a, b, 2_550, kind="card_payment", reference="Coffee", category="coffee", merchant="Cafe",
                  metadata={"mcc": "5814"})
    assert not tx.existing
    assert [(leg.account_id, leg.amount, leg.balance_after, leg.version) for leg in tx.legs] == [
        (a.id, -2_550, 7_450, 2), (b.id, 2_550, 2_550, 1)]
    assert tx.amount_for(a.id) == -2_550 and tx.effective_at == tx.created_at
    a2, b2 = ledger.get_account(conn, a.id), ledger.get_account(conn, b.id)
    assert a2 is not None and b2 is not None
    assert (a2.balance, a2.available, a2.version) == (7_450, 7_450, 2)
    assert (b2.balance, b2.version) == (2_550, 1)
    stored = ledger.get_transaction(conn, tx.id)
    assert stored is not None
    assert stored.legs == tx.legs and stored.metadata == {"mcc": "5814"} and stored.category == "coffee"


def test_multi_leg_transaction_balances_per_currency(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b, c = make_account(1_000), make_account(), make_account()
    tx = ledger.post_transaction(conn, transaction_id=ledger.new_id(), kind="split", legs=[
        ledger.Leg(a.id, -900, "EUR"), ledger.Leg(b.id, 600), ledger.Leg(c.id, 300)])
    assert [leg.balance_after for leg in tx.legs] == [100, 600, 300]
    assert all(leg.currency == "EUR" for leg in tx.legs)


def test_allow_negative_account_may_go_below_zero(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    credit, b = make_account(0, allow_negative=True, kind="credit"), make_account()
    transfer(conn, credit, b, 5_000)
    account = ledger.get_account(conn, credit.id)
    assert account is not None and account.balance == -5_000 and account.available == -5_000


def test_same_id_same_content_returns_existing(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(1_000), make_account()
    tx_id = ledger.new_id()
    first = transfer(conn, a, b, 100, transaction_id=tx_id, reference="r", metadata={"k": [1, 2]})
    with assert_unchanged(conn):
        again = transfer(conn, a, b, 100, transaction_id=tx_id, reference="r", metadata={"k": [1, 2]})
    assert again.existing and not first.existing
    assert again.legs == first.legs and again.created_at == first.created_at
    # A retry succeeds even when the money it moved would no longer be available today.
    transfer(conn, a, b, 900)
    assert transfer(conn, a, b, 100, transaction_id=tx_id, reference="r", metadata={"k": [1, 2]}).existing


@pytest.mark.parametrize(("change", "code"), [
    ({"amount": 101}, "exists_with_different_amount"),
    ({"swap": True}, "exists_with_different_amount"),
    ({"other_to": True}, "exists_with_different_accounts"),
    ({"kind": "p2p"}, "exists_with_different_kind"),
    ({"reference": "other"}, "exists_with_different_reference"),
    ({"category": "groceries"}, "exists_with_different_category"),
    ({"merchant": "Shop"}, "exists_with_different_merchant"),
    ({"metadata": {"k": 2}}, "exists_with_different_metadata"),
    ({"effective_at": datetime(2024, 1, 2, tzinfo=UTC)}, "exists_with_different_effective_at"),
])
def test_same_id_different_content_says_which_field(conn: psycopg.Connection, make_account: MakeAccount,
                                                     change: dict, code: str) -> None:
    a, b, c = make_account(1_000), make_account(1_000), make_account()
    tx_id = ledger.new_id()
    base = {"transaction_id": tx_id, "kind": "transfer", "reference": "r", "category": "coffee", "merchant": "Cafe",
            "metadata": {"k": 1}, "effective_at": datetime(2024, 1, 1, tzinfo=UTC)}
    transfer(conn, a, b, 100, **base)
    src, dst, amount = a, b, 100
    if change.pop("swap", False):
        src, dst = b, a
    if change.pop("other_to", False):
        dst = c
    amount = change.pop("amount", amount)
    with assert_unchanged(conn), pytest.raises(ledger.ExistsWithDifferent) as err:
        transfer(conn, src, dst, amount, **{**base, **change})
    assert err.value.code == code and err.value.field == code.removeprefix("exists_with_different_")


def test_rejections_are_typed_and_leave_nothing(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(1_000), make_account()
    usd = make_account(1_000, currency="USD")
    frozen, closed = make_account(), make_account()
    ledger.set_account_status(conn, frozen.id, "frozen")
    ledger.set_account_status(conn, closed.id, "closed")
    cases = [
        (ledger.InsufficientFunds, lambda: transfer(conn, a, b, 1_001)),
        (ledger.AccountFrozen, lambda: transfer(conn, a, frozen, 1)),
        (ledger.AccountFrozen, lambda: transfer(conn, frozen, a, 1, currency="EUR")),
        (ledger.AccountClosed, lambda: transfer(conn, a, closed, 1)),
        (ledger.CurrencyMismatch, lambda: transfer(conn, a, b, 1, currency="USD")),
        (ledger.CurrencyMismatch, lambda: transfer(conn, a, usd, 1)),
        (ledger.InvalidAmount, lambda: transfer(conn, a, b, 0)),
        (ledger.InvalidAmount, lambda: transfer(conn, a, b, -5)),
        (ledger.InvalidAmount, lambda: transfer(conn, a, b, limits.MAX_AMOUNT + 1)),
        (ledger.InvalidAmount, lambda: transfer(conn, a, b, 1.5)),
        (ledger.InvalidAmount, lambda: transfer(conn, a, b, True)),
        (ledger.SameAccount, lambda: transfer(conn, a, a, 1)),
        (ledger.AccountNotFound, lambda: ledger.post_transfer(
            conn, transaction_id=ledger.new_id(), from_account_id=a.id, to_account_id=uuid.uuid4(), amount=1,
            currency="EUR")),
        (ledger.MetadataTooLarge, lambda: transfer(conn, a, b, 1, metadata={"x": "y" * limits.MAX_METADATA_BYTES})),
        (ledger.TooManyEntries, lambda: ledger.post_transaction(
            conn, transaction_id=ledger.new_id(), kind="split",
            legs=[ledger.Leg(uuid.uuid4(), 1) for _ in range(limits.MAX_ENTRIES + 1)])),
        (ledger.errors.Unbalanced, lambda: ledger.post_transaction(
            conn, transaction_id=ledger.new_id(), kind="split", legs=[ledger.Leg(a.id, -10), ledger.Leg(b.id, 9)])),
        (ledger.errors.InvalidEffectiveAt, lambda: transfer(
            conn, a, b, 1, effective_at=datetime.now(UTC) + timedelta(minutes=5))),
        (ledger.errors.InvalidEffectiveAt,
         lambda: transfer(conn, a, b, 1, effective_at=datetime(1999, 1, 1, tzinfo=UTC))),
        (ledger.errors.InvalidField, lambda: transfer(conn, a, b, 1, kind="k" * (limits.MAX_KIND_LEN + 1))),
        (ledger.errors.InvalidMetadata, lambda: transfer(conn, a, b, 1, metadata={"x": float("nan")})),
    ]
    for error, call in cases:
        with assert_unchanged(conn), pytest.raises(error) as err:
            call()
        assert err.value.code in ERROR_CODES


# The SQL function is the boundary: the same rejections hold when Python's checks are bypassed.
SQL_POST = ("SELECT code FROM ledger_post(%s, %s, %s::uuid[], %s::bigint[], %s::text[], NULL, %s::jsonb,"
            " NULL, NULL, NULL)")


@pytest.mark.parametrize(("legs", "metadata", "code"), [
    ([("a", -5), ("b", 5)], "{}", "ok"),
    ([("a", 0), ("b", 0)], "{}", "invalid_amount"),
    ([("a", -(limits.MAX_AMOUNT + 1)), ("b", limits.MAX_AMOUNT + 1)], "{}", "invalid_amount"),
    ([("a", -5), ("a", 5)], "{}", "same_account"),
    ([("a", -5), ("b", 4), ("c", 1), ("a", 0)], "{}", "invalid_amount"),
    ([("a", -5), ("b", 4), ("c", 1), ("b", 1)], "{}", "same_account"),
    ([("a", -5)], "{}", "invalid_legs"),
    ([("a", -5), ("b", 5)], '{"x": "' + "y" * limits.MAX_METADATA_BYTES + '"}', "metadata_too_large"),
    ([("a", -5), ("b", 5)], "[1]", "invalid_metadata"),
    ([("a", -5000), ("b", 5000)], "{}", "insufficient_funds"),
    ([("a", -5), ("b", 4)], "{}", "unbalanced"),
    ([("a", -5), ("b", 4), ("c", 2)], "{}", "unbalanced"),
])
def test_sql_function_enforces_the_rules(conn: psycopg.Connection, make_account: MakeAccount, legs: list,
                                         metadata: str, code: str) -> None:
    accounts = {"a": make_account(1_000).id, "b": make_account().id, "c": make_account().id}
    params = (ledger.new_id(), "transfer", [accounts[k] for k, _ in legs], [x for _, x in legs], None, metadata)
    if code == "ok":
        assert conn.execute(SQL_POST, params).fetchone() == ("ok",)
        return
    with assert_unchanged(conn):
        assert conn.execute(SQL_POST, params).fetchone() == (code,)


def test_too_many_entries_in_sql(conn: psycopg.Connection) -> None:
    n = limits.MAX_ENTRIES + 1
    params = (ledger.new_id(), "split", [uuid.uuid4() for _ in range(n)], [1] * n, None, "{}")
    assert conn.execute(SQL_POST, params).fetchone() == ("too_many_entries",)


def test_rejection_keeps_the_callers_transaction_usable(database_url: str, make_account: MakeAccount) -> None:
    """The core posts inside its own transaction (with its idempotency record): a rejection must not
    abort that transaction, and nothing of the rejected posting may be committed with it."""
    a, b = make_account(100), make_account()
    with psycopg.connect(database_url) as conn:  # not autocommit
        with pytest.raises(ledger.InsufficientFunds):
            transfer(conn, a, b, 101)
        ok = transfer(conn, a, b, 60)
        conn.commit()
    with psycopg.connect(database_url, autocommit=True) as check:
        assert ledger.get_transaction(check, ok.id) is not None
        account = ledger.get_account(check, a.id)
        assert account is not None and (account.balance, account.version) == (40, 2)


def test_uncommitted_posting_is_rolled_back_with_the_caller(database_url: str, make_account: MakeAccount) -> None:
    a, b = make_account(100), make_account()
    with psycopg.connect(database_url) as conn:
        tx = transfer(conn, a, b, 10)
        conn.rollback()
        assert ledger.get_transaction(conn, tx.id) is None


def test_open_account_is_idempotent_with_an_id(conn: psycopg.Connection) -> None:
    account_id = uuid.uuid4()
    first = ledger.open_account(conn, owner_id="o1", name="n", kind="checking", currency="EUR", account_id=account_id)
    assert ledger.open_account(conn, owner_id="o1", name="n", kind="checking", currency="EUR",
                               account_id=account_id) == first
    with pytest.raises(ledger.ExistsWithDifferent) as err:
        ledger.open_account(conn, owner_id="o1", name="n", kind="checking", currency="GBP", account_id=account_id)
    assert err.value.code == "exists_with_different_currency"
    with pytest.raises(ledger.errors.InvalidCurrency):
        ledger.open_account(conn, owner_id="o1", name="n", kind="checking", currency="EURO")


def test_account_status_transitions(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(100), make_account()
    assert ledger.set_account_status(conn, a.id, "frozen").status == "frozen"
    assert ledger.set_account_status(conn, a.id, "active").status == "active"
    with pytest.raises(ledger.errors.BalanceNotZero):
        ledger.set_account_status(conn, a.id, "closed")
    transfer(conn, a, b, 100)
    assert ledger.set_account_status(conn, a.id, "closed").status == "closed"
    with pytest.raises(ledger.AccountClosed):
        ledger.set_account_status(conn, a.id, "active")
    with pytest.raises(ledger.errors.InvalidStatus):
        ledger.set_account_status(conn, b.id, "gone")


def test_accounts_for_owner(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    owner = f"owner-{uuid.uuid4()}"
    first = make_account(5, owner_id=owner, kind="checking")
    second = make_account(0, owner_id=owner, kind="savings")
    assert [acc.id for acc in ledger.accounts_for_owner(conn, owner)] == [first.id, second.id]
    assert ledger.accounts_for_owner(conn, "nobody") == []


def test_reversal_undoes_and_only_once(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(1_000), make_account()
    original = transfer(conn, a, b, 300, kind="card_payment", category="coffee", merchant="Cafe")
    reversal_id = ledger.new_id()
    ledger.set_account_status(conn, a.id, "frozen")  # corrections still reach frozen accounts
    rev = ledger.reverse_transaction(conn, transaction_id=reversal_id, original_id=original.id, reason="refund")
    assert rev.reverses_id == original.id and rev.kind == "card_payment" and rev.reference == "refund"
    assert [(leg.account_id, leg.amount) for leg in rev.legs] == [(a.id, 300), (b.id, -300)]
    again = ledger.reverse_transaction(conn, transaction_id=reversal_id, original_id=original.id, reason="refund")
    assert again.existing and again.id == rev.id
    with assert_unchanged(conn):
        with pytest.raises(ledger.AlreadyReversed):
            ledger.reverse_transaction(conn, transaction_id=ledger.new_id(), original_id=original.id, reason="x")
        with pytest.raises(ledger.errors.CannotReverseReversal):
            ledger.reverse_transaction(conn, transaction_id=ledger.new_id(), original_id=rev.id, reason="x")
        with pytest.raises(ledger.errors.TransactionNotFound):
            ledger.reverse_transaction(conn, transaction_id=ledger.new_id(), original_id=uuid.uuid4(), reason="x")
        with pytest.raises(ledger.ExistsWithDifferent):
            ledger.reverse_transaction(conn, transaction_id=reversal_id, original_id=original.id, reason="other")
    account = ledger.get_account(conn, a.id)
    assert account is not None and account.balance == 1_000


def test_reversal_cannot_overdraw(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b, c = make_account(500), make_account(), make_account()
    original = transfer(conn, a, b, 500)
    transfer(conn, b, c, 400)
    with assert_unchanged(conn), pytest.raises(ledger.InsufficientFunds):
        ledger.reverse_transaction(conn, transaction_id=ledger.new_id(), original_id=original.id, reason="x")


def test_entries_and_transactions_are_immutable(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(100), make_account()
    tx = transfer(conn, a, b, 10)
    for statement in ("UPDATE ledger_entries SET amount = 1 WHERE transaction_id = %s",
                      "DELETE FROM ledger_entries WHERE transaction_id = %s",
                      "UPDATE ledger_transactions SET reference = 'x' WHERE id = %s",
                      "DELETE FROM ledger_transactions WHERE id = %s",
                      "DELETE FROM ledger_accounts WHERE id <> %s"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement, (tx.id,))


def test_new_id_is_uuid7_and_ordered() -> None:
    ids = [ledger.new_id() for _ in range(50)]
    assert all(i.version == 7 for i in ids)
    assert [i.int >> 80 for i in ids] == sorted(i.int >> 80 for i in ids)


SQL_TRANSFER = ("SELECT code FROM ledger_transfer(%s, %s, %s, %s, %s, %s, %s, %s::jsonb, NULL, NULL, "
                "%s::timestamptz)")


@pytest.mark.parametrize(("case", "code"), [
    ({}, "ok"),
    ({"amount": 0}, "invalid_amount"),
    ({"amount": -5}, "invalid_amount"),
    ({"amount": limits.MAX_AMOUNT + 1}, "invalid_amount"),
    ({"amount": 1_001}, "insufficient_funds"),
    ({"to": "a"}, "same_account"),
    ({"to": "missing"}, "account_not_found"),
    ({"to": "usd"}, "currency_mismatch"),
    ({"currency": "USD"}, "currency_mismatch"),
    ({"to": "frozen"}, "account_frozen"),
    ({"from": "frozen"}, "account_frozen"),
    ({"to": "closed"}, "account_closed"),
    ({"kind": ""}, "invalid_field"),
    ({"kind": "k" * (limits.MAX_KIND_LEN + 1)}, "invalid_field"),
    ({"reference": "r" * (limits.MAX_REFERENCE_LEN + 1)}, "invalid_field"),
    ({"metadata": "[1]"}, "invalid_metadata"),
    ({"metadata": '{"x": "' + "y" * limits.MAX_METADATA_BYTES + '"}'}, "metadata_too_large"),
    ({"effective_at": datetime.now(UTC) + timedelta(hours=1)}, "invalid_effective_at"),
])
def test_fast_transfer_function_answers_like_the_generic_one(conn: psycopg.Connection, make_account: MakeAccount,
                                                             case: dict, code: str) -> None:
    """ledger_transfer (the hot path) and ledger_post must give the same answer to the same transfer."""
    accounts = {"a": make_account(1_000).id, "b": make_account().id, "missing": uuid.uuid4(),
                "usd": make_account(0, currency="USD").id, "frozen": make_account(10).id, "closed": make_account().id}
    ledger.set_account_status(conn, accounts["frozen"], "frozen")
    ledger.set_account_status(conn, accounts["closed"], "closed")
    src, dst = accounts[case.get("from", "a")], accounts[case.get("to", "b")]
    amount, currency = case.get("amount", 10), case.get("currency", "EUR")
    kind, reference, metadata = case.get("kind", "transfer"), case.get("reference"), case.get("metadata")
    effective_at = case.get("effective_at")
    fast_params = (ledger.new_id(), src, dst, amount, currency, kind, reference, metadata, effective_at)
    generic_params = (ledger.new_id(), kind, [src, dst], [-amount, amount], [currency, currency], reference,
                      metadata or "{}", effective_at)
    generic_sql = ("SELECT code FROM ledger_post(%s, %s, %s::uuid[], %s::bigint[], %s::text[], %s, %s::jsonb,"
                   " NULL, NULL, %s)")
    if code == "ok":
        assert conn.execute(SQL_TRANSFER, fast_params).fetchone() == ("ok",)
        assert conn.execute(generic_sql, generic_params).fetchone() == ("ok",)
        return
    with assert_unchanged(conn):
        assert conn.execute(SQL_TRANSFER, fast_params).fetchone() == (code,)
        if amount > 0:  # a negative amount has no two-leg equivalent: (-amount, +amount) flips direction
            assert conn.execute(generic_sql, generic_params).fetchone() == (code,)
