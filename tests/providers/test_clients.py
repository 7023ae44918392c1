"""Each client's calls against the sandbox: answers, reads by id and key, outcomes later, refusals."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from api.providers.errors import ProviderNotFound, ProviderRejected
from api.providers.rails import Party
from tests.providers.conftest import Clients, advance, effects, key
from tests.providers.ops import ADDRESS, IBAN

BOB = Party(name="Bob Example", iban=IBAN)


# -- rails ---------------------------------------------------------------------------------------------------

def test_a_credit_transfer_is_accepted_read_back_and_settles(clients: Clients, admin: httpx.Client) -> None:
    k = key("ct")
    sent = clients.rails.send_credit_transfer(idempotency_key=k, amount_minor=12_300, currency="EUR",
                                              creditor=BOB, reference="invoice 7")
    assert sent.id.startswith("ct_") and sent.status == "accepted" and sent.kind == "credit_transfer"
    assert (sent.amount_minor, sent.currency, sent.reference) == (12_300, "EUR", "invoice 7")
    assert sent.counterparty.name == "Bob Example" and sent.counterparty.masked_account.endswith("3000")
    assert sent.created_at is not None and sent.created_at.tzinfo is not None
    assert clients.rails.credit_transfer(sent.id).id == sent.id
    assert clients.rails.credit_transfer_by_key(k).id == sent.id
    advance(admin, 2)
    assert clients.rails.credit_transfer(sent.id).status == "settled"
    assert len(effects(admin, provider="rails", idempotency_key=k)) == 1


def test_the_same_key_replays_the_first_answer_whatever_its_status(clients: Clients, admin: httpx.Client) -> None:
    k = key("ct")
    first = clients.rails.send_credit_transfer(idempotency_key=k, amount_minor=800, currency="EUR", creditor=BOB)
    advance(admin, 2)
    again = clients.rails.send_credit_transfer(idempotency_key=k, amount_minor=800, currency="EUR", creditor=BOB)
    assert again.id == first.id and again.status == "settled"
    assert len(effects(admin, provider="rails", idempotency_key=k)) == 1


def test_the_same_key_with_another_body_is_refused(clients: Clients) -> None:
    k = key("ct")
    clients.rails.send_credit_transfer(idempotency_key=k, amount_minor=800, currency="EUR", creditor=BOB)
    before = clients.faults.posts()
    with pytest.raises(ProviderRejected) as caught:
        clients.rails.send_credit_transfer(idempotency_key=k, amount_minor=900, currency="EUR", creditor=BOB)
    assert caught.value.code == "idempotency_key_reused" and caught.value.status == 422
    assert clients.faults.posts() - before == 1


def test_a_transfer_to_an_incorrect_account_is_rejected_and_then_raises(clients: Clients,
                                                                         admin: httpx.Client) -> None:
    k = key("ct")
    sent = clients.rails.send_credit_transfer(idempotency_key=k, amount_minor=5013, currency="EUR", creditor=BOB)
    assert sent.status == "accepted"  # the rail decides at settlement, not at acceptance
    advance(admin, 2)
    rejected = clients.rails.credit_transfer(sent.id)
    assert (rejected.status, rejected.reason_code, rejected.reason) == ("rejected", "AC01", "incorrect account number")
    # Sending it again (a saga step re-run) learns the refusal as ProviderRejected, once, without retries.
    before = clients.faults.posts()
    with pytest.raises(ProviderRejected) as caught:
        clients.rails.send_credit_transfer(idempotency_key=k, amount_minor=5013, currency="EUR", creditor=BOB)
    assert (caught.value.code, caught.value.object_id) == ("AC01", sent.id)
    assert clients.faults.posts() - before == 1
    assert len(effects(admin, provider="rails", idempotency_key=k)) == 1


def test_a_settled_transfer_is_returned_days_later(clients: Clients, admin: httpx.Client) -> None:
    sent = clients.rails.send_credit_transfer(idempotency_key=key("ct"), amount_minor=1066, currency="EUR",
                                              creditor=Party(name="Carol", account_number="12345678"))
    advance(admin, 2)
    assert clients.rails.credit_transfer(sent.id).status == "settled"
    advance(admin, 3 * 24 * 3600 + 1)
    returned = clients.rails.credit_transfer(sent.id)
    assert (returned.status, returned.reason_code) == ("returned", "R01")


def test_a_direct_debit_is_collected_or_fails(clients: Clients, admin: httpx.Client) -> None:
    alice = Party(name="Alice Example", iban=IBAN)
    k = key("dd")
    pulled = clients.rails.pull_direct_debit(idempotency_key=k, amount_minor=2000, currency="EUR", debtor=alice,
                                             mandate_id="mdt-1", reference="top-up")
    assert pulled.id.startswith("dd_") and pulled.status == "pending" and pulled.mandate_id == "mdt-1"
    assert pulled.kind == "direct_debit" and pulled.counterparty.name == "Alice Example"
    short = clients.rails.pull_direct_debit(idempotency_key=key("dd"), amount_minor=2013, currency="EUR",
                                            debtor=alice, mandate_id="mdt-1")
    advance(admin, 2)
    assert clients.rails.direct_debit(pulled.id).status == "collected"
    failed = clients.rails.direct_debit(short.id)
    assert (failed.status, failed.reason_code, failed.reason) == ("failed", "AM04", "insufficient funds")
    assert clients.rails.direct_debit_by_key(k).id == pulled.id


def test_unknown_objects_and_keys(clients: Clients) -> None:
    with pytest.raises(ProviderNotFound):
        clients.rails.credit_transfer("ct_does_not_exist")
    assert clients.rails.credit_transfer_by_key(key("never")) is None
    assert clients.rails.direct_debit_by_key(key("never")) is None
    with pytest.raises(ProviderNotFound):
        clients.kyc.applicant("app_nope")


def test_a_refused_request_body_is_rejected_not_retried(clients: Clients) -> None:
    with pytest.raises(ProviderRejected) as caught:
        clients.rails.send_credit_transfer(idempotency_key=key("ct"), amount_minor=100, currency="euro",
                                           creditor=BOB)
    assert caught.value.status in (400, 422)
    assert clients.faults.posts() == 1


def test_a_bad_key_or_party_never_reaches_the_provider(clients: Clients) -> None:
    with pytest.raises(ValueError):
        clients.rails.send_credit_transfer(idempotency_key="no spaces", amount_minor=100, currency="EUR",
                                           creditor=BOB)
    with pytest.raises(ValueError):
        clients.rails.send_credit_transfer(idempotency_key=key("ct"), amount_minor=100, currency="EUR",
                                           creditor=Party(name="No Account"))
    assert clients.faults.sent == []


# -- cards ---------------------------------------------------------------------------------------------------

def test_authorize_capture_and_refund(clients: Clients, admin: httpx.Client) -> None:
    auth = clients.cards.authorize(idempotency_key=key("auth"), card_id="card_test_1", amount_minor=5000,
                                   currency="EUR", merchant={"name": "Corner Coffee", "mcc": "5814"})
    assert auth.id.startswith("auth_") and auth.status == "approved" and auth.decline_reason is None
    assert (auth.amount_minor, auth.currency) == (5000, "EUR")
    assert clients.cards.authorization(auth.id).id == auth.id
    cap = clients.cards.capture(idempotency_key=key("cap"), authorization_id=auth.id, amount_minor=3000)
    assert cap.id.startswith("cap_") and cap.status == "captured" and cap.authorization_id == auth.id
    assert (cap.amount_minor, cap.currency) == (3000, "EUR")
    assert clients.cards.capture_status(cap.id).id == cap.id
    k = key("rf")
    refund = clients.cards.refund(idempotency_key=k, capture_id=cap.id, transaction_ref="txn-9", amount_minor=1000,
                                  currency="EUR")
    assert refund.id.startswith("rf_") and refund.status == "pending" and refund.capture_id == cap.id
    assert clients.cards.refund_by_key(k).id == refund.id
    advance(admin, 2)
    assert clients.cards.refund_status(refund.id).status == "succeeded"


@pytest.mark.parametrize(("amount", "code", "reason"), [(2051, "51", "insufficient funds"),
                                                       (2005, "05", "do not honour")])
def test_a_decline_raises_with_a_plain_reason_and_is_not_retried(clients: Clients, admin: httpx.Client,
                                                                  amount: int, code: str, reason: str) -> None:
    k = key("auth")
    with pytest.raises(ProviderRejected) as caught:
        clients.cards.authorize(idempotency_key=k, card_id="card_test_1", amount_minor=amount, currency="EUR",
                                merchant="Corner Coffee")
    assert (caught.value.code, caught.value.reason, caught.value.provider) == (code, reason, "cards")
    assert caught.value.object_id.startswith("auth_")
    assert clients.faults.posts() == 1
    declined = clients.cards.authorization_by_key(k)
    assert (declined.status, declined.decline_code, declined.decline_reason) == ("declined", code, reason)
    assert len(effects(admin, provider="cards", idempotency_key=k)) == 1


def test_capture_refusals(clients: Clients) -> None:
    auth = clients.cards.authorize(idempotency_key=key("auth"), card_id="card_test_1", amount_minor=1000,
                                   currency="EUR", merchant="Corner Coffee")
    with pytest.raises(ProviderRejected) as caught:
        clients.cards.capture(idempotency_key=key("cap"), authorization_id=auth.id, amount_minor=1001)
    assert caught.value.status == 422 and caught.value.code == "amount_exceeds_authorization"
    with pytest.raises(ProviderNotFound):
        clients.cards.capture(idempotency_key=key("cap"), authorization_id="auth_unknown", amount_minor=10)


def test_a_refund_may_fail_later(clients: Clients, admin: httpx.Client) -> None:
    refund = clients.cards.refund(idempotency_key=key("rf"), transaction_ref="txn-old", amount_minor=913,
                                  currency="EUR")
    advance(admin, 2)
    failed = clients.cards.refund_status(refund.id)
    assert (failed.status, failed.reason_code) == ("failed", "R_EXPIRED")
    assert "expired" in failed.reason


# -- crypto --------------------------------------------------------------------------------------------------

def test_quote_then_transfer_until_confirmed(clients: Clients, admin: httpx.Client) -> None:
    quote = clients.crypto.quote(asset="BTC", fiat_amount_minor=60_000, fiat_currency="EUR")
    assert quote.id.startswith("q_") and quote.asset == "BTC"
    assert isinstance(quote.asset_amount, Decimal) and isinstance(quote.rate, Decimal)
    assert quote.asset_amount == Decimal(600) / quote.rate
    assert isinstance(quote.network_fee_minor, int) and quote.network_fee_minor > 0
    assert quote.expires_at is not None and quote.fiat_amount_minor == 60_000
    k = key("ctx")
    sent = clients.crypto.transfer(idempotency_key=k, quote_id=quote.id, destination_address=ADDRESS)
    assert sent.id.startswith("ctx_") and sent.status == "submitted" and sent.confirmations == 0
    assert (sent.amount_minor, sent.currency, sent.quote_id) == (60_000, "EUR", quote.id)
    assert sent.asset_amount == quote.asset_amount
    assert clients.crypto.transfer_by_key(k).id == sent.id
    for _ in range(4):
        advance(admin, 1.1)
    confirmed = clients.crypto.transfer_status(sent.id)
    assert (confirmed.status, confirmed.confirmations) == ("confirmed", 3)


def test_an_expired_quote_or_an_unknown_one(clients: Clients, admin: httpx.Client) -> None:
    quote = clients.crypto.quote(asset="ETH", fiat_amount_minor=3000, fiat_currency="EUR")
    advance(admin, 61)
    with pytest.raises(ProviderRejected) as caught:
        clients.crypto.transfer(idempotency_key=key("ctx"), quote_id=quote.id, destination_address=ADDRESS)
    assert caught.value.code == "quote_expired"
    assert "expired" in caught.value.reason
    with pytest.raises(ProviderNotFound):
        clients.crypto.transfer(idempotency_key=key("ctx"), quote_id="q_unknown", destination_address=ADDRESS)


def test_a_network_rejection_and_a_reorg(clients: Clients, admin: httpx.Client) -> None:
    rejected = clients.crypto.transfer(
        idempotency_key=key("ctx"), destination_address=ADDRESS,
        quote_id=clients.crypto.quote(asset="ETH", fiat_amount_minor=1013, fiat_currency="EUR").id)
    dropped = clients.crypto.transfer(
        idempotency_key=key("ctx"), destination_address=ADDRESS,
        quote_id=clients.crypto.quote(asset="ETH", fiat_amount_minor=1066, fiat_currency="EUR").id)
    for _ in range(4):
        advance(admin, 1.1)
    failed = clients.crypto.transfer_status(rejected.id)
    assert (failed.status, failed.reason_code) == ("failed", "NETWORK_REJECTED")
    assert clients.crypto.transfer_status(dropped.id).status == "confirmed"
    advance(admin, 3601)
    gone = clients.crypto.transfer_status(dropped.id)
    assert (gone.status, gone.reason_code) == ("dropped", "REORG")


# -- kyc -----------------------------------------------------------------------------------------------------

def test_an_applicant_is_reviewed(clients: Clients, admin: httpx.Client) -> None:
    k = key("app")
    ok = clients.kyc.create_applicant(idempotency_key=k, external_ref="cust-1", full_name="Ada Lovelace",
                                      level="full")
    assert ok.id.startswith("app_") and ok.status == "pending" and (ok.external_ref, ok.level) == ("cust-1", "full")
    bad = clients.kyc.create_applicant(idempotency_key=key("app"), external_ref="cust-2",
                                       full_name="Reject Me Please", level="basic")
    advance(admin, 2)
    assert clients.kyc.applicant(ok.id).status == "verified"
    rejected = clients.kyc.applicant(bad.id)
    assert (rejected.status, rejected.reason_code) == ("rejected", "DOC_UNREADABLE")
    assert rejected.reason == "the identity document could not be read"
    assert clients.kyc.applicant_by_key(k).id == ok.id
