"""FX: a transfer between currencies is two balanced legs through the bank's FX accounts."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

import ledger
from tests.ledger.conftest import MakeAccount, assert_unchanged


def test_fx_transfer_posts_two_balanced_legs(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    eur, usd = make_account(10_000), make_account(0, currency="USD")
    fx_eur_before = ledger.get_account(conn, ledger.fx_account_id("EUR"))
    tx = ledger.transfer_fx(conn, transaction_id=ledger.new_id(), from_account_id=eur.id, to_account_id=usd.id,
                            amount_from=1_000, rate=Decimal("1.0832"), reference="holiday money")
    assert [(leg.account_id, leg.amount, leg.currency) for leg in tx.legs] == [
        (eur.id, -1_000, "EUR"), (ledger.fx_account_id("EUR"), 1_000, "EUR"),
        (ledger.fx_account_id("USD"), -1_083, "USD"), (usd.id, 1_083, "USD")]
    for currency in ("EUR", "USD"):
        assert sum(leg.amount for leg in tx.legs if leg.currency == currency) == 0
    assert tx.metadata["fx"] == {"rate": "1.0832", "from_currency": "EUR", "to_currency": "USD",
                                 "amount_from": 1_000, "amount_to": 1_083}
    fx_eur = ledger.get_account(conn, ledger.fx_account_id("EUR"))
    assert fx_eur is not None and fx_eur.kind == "fx" and fx_eur.allow_negative
    assert fx_eur.balance == (fx_eur_before.balance if fx_eur_before else 0) + 1_000


def test_fx_conversion_respects_minor_units() -> None:
    assert ledger.convert(1_000, "EUR", "JPY", Decimal("161.25")) == 1_612  # 10.00 EUR -> 1612.5 JPY, half-even
    assert ledger.convert(1_000, "EUR", "JPY", Decimal("161.35")) == 1_614  # 1613.5 -> 1614
    assert ledger.convert(1_000, "JPY", "EUR", Decimal("0.0062")) == 620  # 1000 JPY -> 6.20 EUR
    assert ledger.convert(1_000, "EUR", "BHD", Decimal("0.41")) == 4_100  # 10.00 EUR -> 4.100 BHD
    with pytest.raises(ledger.errors.InvalidRate):
        ledger.convert(1_000, "EUR", "USD", Decimal("-1"))
    with pytest.raises(ledger.InvalidAmount):
        ledger.convert(1, "EUR", "JPY", Decimal("0.001"))


def test_fx_rejections(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    eur, usd, eur2 = make_account(100), make_account(0, currency="USD"), make_account(0)
    ledger.transfer_fx(conn, transaction_id=ledger.new_id(), from_account_id=eur.id, to_account_id=usd.id,
                       amount_from=1, rate=Decimal("1.1"))  # make sure the FX accounts exist
    with assert_unchanged(conn):
        with pytest.raises(ledger.InsufficientFunds):
            ledger.transfer_fx(conn, transaction_id=ledger.new_id(), from_account_id=eur.id, to_account_id=usd.id,
                               amount_from=100, rate=Decimal("1.1"))
        with pytest.raises(ledger.CurrencyMismatch):
            ledger.transfer_fx(conn, transaction_id=ledger.new_id(), from_account_id=eur.id, to_account_id=eur2.id,
                               amount_from=10, rate=Decimal("1.1"))


def test_fx_retry_with_another_rate_is_refused(conn: psycopg.Connection, make_account: MakeAccount) -> None:
    eur, usd = make_account(1_000), make_account(0, currency="USD")
    tx_id = ledger.new_id()
    ledger.transfer_fx(conn, transaction_id=tx_id, from_account_id=eur.id, to_account_id=usd.id, amount_from=500,
                       rate=Decimal("1.10"))
    assert ledger.transfer_fx(conn, transaction_id=tx_id, from_account_id=eur.id, to_account_id=usd.id,
                              amount_from=500, rate=Decimal("1.10")).existing
    with pytest.raises(ledger.ExistsWithDifferent):
        ledger.transfer_fx(conn, transaction_id=tx_id, from_account_id=eur.id, to_account_id=usd.id,
                           amount_from=500, rate=Decimal("1.20"))
