"""Balances as of a past instant, statements with keyset pagination, spending aggregates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

import ledger
from tests.ledger.conftest import MakeAccount, bank_account

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def pay(conn: psycopg.Connection, src: ledger.Account, dst_id, amount: int, when: datetime, **kw) -> ledger.Transaction:
    return ledger.post_transfer(conn, transaction_id=ledger.new_id(), from_account_id=src.id, to_account_id=dst_id,
                                amount=amount, currency=src.currency, effective_at=when, **kw)


def test_balance_as_of_counts_back_dated_entries(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, b = make_account(), make_account()
    bank = bank_account(conn)
    ledger.post_transfer(conn, transaction_id=ledger.new_id(), from_account_id=bank, to_account_id=a.id,
                         amount=10_000, currency="EUR", effective_at=T0)
    pay(conn, a, b.id, 1_000, T0 + timedelta(days=10))
    pay(conn, a, b.id, 2_000, T0 + timedelta(days=5))  # posted later, effective earlier
    assert ledger.balance_as_of(conn, a.id, T0 - timedelta(seconds=1)) == 0
    assert ledger.balance_as_of(conn, a.id, T0) == 10_000
    assert ledger.balance_as_of(conn, a.id, T0 + timedelta(days=6)) == 8_000
    assert ledger.balance_as_of(conn, a.id, T0 + timedelta(days=10)) == 7_000
    assert ledger.balance_as_of(conn, a.id, datetime.now(UTC)) == 7_000 == ledger.balance(conn, a.id)[0]
    with pytest.raises(ledger.AccountNotFound):
        ledger.balance_as_of(conn, ledger.new_id(), T0)


def test_statement_pages_through_everything_once(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    owner = f"owner-{ledger.new_id()}"
    chk = make_account(0, owner_id=owner)
    sav = make_account(0, owner_id=owner, kind="savings")
    bank = bank_account(conn)
    for i in range(23):  # same effective_at on both accounts for some rows: the cursor must break ties
        when = T0 + timedelta(hours=i // 2)
        ledger.post_transfer(conn, transaction_id=ledger.new_id(), from_account_id=bank, to_account_id=chk.id,
                             amount=100 + i, currency="EUR", effective_at=when)
        if i % 3 == 0:
            ledger.post_transfer(conn, transaction_id=ledger.new_id(), from_account_id=chk.id, to_account_id=sav.id,
                                 amount=1, currency="EUR", effective_at=when)
    seen, cursor = [], None
    while True:
        page = ledger.statement(conn, owner_id=owner, limit=7, after_cursor=cursor)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    keys = [(item.effective_at, item.account_id, item.version) for item in seen]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys) == 23 + 8 + 8
    total = {acc: sum(i.amount for i in seen if i.account_id == acc) for acc in (chk.id, sav.id)}
    assert total[chk.id] == ledger.balance(conn, chk.id)[0] and total[sav.id] == 8
    only = ledger.statement(conn, chk.id, start=T0, end=T0 + timedelta(hours=1), limit=50)
    assert {i.effective_at for i in only.items} == {T0} and only.next_cursor is None
    with pytest.raises(ledger.errors.InvalidCursor):
        ledger.statement(conn, chk.id, after_cursor="garbage")
    with pytest.raises(ledger.errors.LimitExceeded):
        ledger.statement(conn, chk.id, limit=10_000)


def test_statement_filters_and_statuses(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, shop = make_account(5_000), make_account(0, kind="merchant_settlement")
    coffee = pay(conn, a, shop.id, 300, T0, kind="card_payment", category="coffee", merchant="Bean Bar",
                 reference="Bean Bar")
    pay(conn, a, shop.id, 4_000, T0 + timedelta(days=1), kind="card_payment", category="rent", merchant="Lettings")
    rev = ledger.reverse_transaction(conn, transaction_id=ledger.new_id(), original_id=coffee.id, reason="refund")
    page = ledger.statement(conn, a.id, category="coffee")
    assert [(i.transaction_id, i.status, i.amount) for i in page.items] == [
        (rev.id, "reversal", 300), (coffee.id, "reversed", -300)]
    assert page.items[1].description == "Bean Bar"
    assert [i.merchant for i in ledger.statement(conn, a.id, merchant="lettings").items] == ["Lettings"]


def test_spending_by_category_merchant_and_month(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a, shop = make_account(100_000), make_account(0, kind="merchant_settlement")
    other = make_account(0)
    pay(conn, a, shop.id, 350, T0 + timedelta(days=1), kind="card_payment", category="coffee", merchant="Bean Bar")
    pay(conn, a, shop.id, 250, T0 + timedelta(days=40), kind="card_payment", category="coffee", merchant="Cafe")
    rent = pay(conn, a, shop.id, 50_000, T0 + timedelta(days=2), kind="card_payment", category="rent",
               merchant="Lettings")
    pay(conn, a, other.id, 9_999, T0 + timedelta(days=3), kind="transfer")  # not spending
    start, end = T0, T0 + timedelta(days=60)
    total = ledger.spending(conn, account_ids=[a.id], start=start, end=end)
    assert (total.total, total.count, total.currency, total.groups) == (50_600, 3, "EUR", [])
    by_cat = ledger.spending(conn, account_ids=[a.id], start=start, end=end, group_by="category")
    assert [(g.key, g.total, g.count) for g in by_cat.groups] == [("rent", 50_000, 1), ("coffee", 600, 2)]
    by_month = ledger.spending(conn, account_ids=[a.id], start=start, end=end, group_by="month")
    assert [(g.key, g.total) for g in by_month.groups] == [("2025-01", 50_350), ("2025-02", 250)]
    coffee = ledger.spending(conn, account_ids=[a.id], start=start, end=end, category="coffee", group_by="merchant")
    assert [(g.key, g.total) for g in coffee.groups] == [("Bean Bar", 350), ("Cafe", 250)]
    assert ledger.spending(conn, account_ids=[a.id], start=start, end=end, merchant="bean bar").total == 350
    ledger.reverse_transaction(conn, transaction_id=ledger.new_id(), original_id=rent.id, reason="refund")
    after = ledger.spending(conn, account_ids=[a.id], start=start, end=datetime.now(UTC) + timedelta(days=1))
    assert after.total == 600  # the rent payment and its reversal net out
    with pytest.raises(ledger.CurrencyMismatch):
        ledger.spending(conn, account_ids=[a.id, make_account(0, currency="USD").id], start=start, end=end)


def test_spending_query_uses_the_covering_index(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    a = make_account(100)
    conn.execute("ANALYZE ledger_entries")
    plan = "\n".join(r[0] for r in conn.execute(
        """EXPLAIN SELECT e.category, -sum(e.amount) FROM ledger_entries e
           WHERE e.account_id = ANY(%s::uuid[]) AND e.effective_at >= %s AND e.effective_at < %s
             AND e.kind = ANY(%s::text[]) GROUP BY 1""", ([a.id], T0, T0 + timedelta(days=365), ["card_payment"])))
    assert "ledger_entries_account_time" in plan
