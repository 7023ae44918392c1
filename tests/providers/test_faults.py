"""Every API fault kind of docs/providers.md, on every effectful call: exactly one effect, or a clear error."""

from __future__ import annotations

import httpx
import pytest

from api.providers.errors import ProviderAmbiguous, ProviderAuthError, ProviderUnavailable
from api.providers.rails import Party
from tests.providers.conftest import Clients, effects, key
from tests.providers.ops import IBAN, OPS, Op

# The effect happened, the answer did not arrive: resolved by key, no second POST.
EFFECT_DONE = ["response_lost", "slow_success", "error_500_after_effect", "truncated_body"]
# No effect: resolved (or known unsent) and sent again with the same key.
NO_EFFECT = ["connection_dropped", "timeout_before_effect", "error_500", "error_503", "rate_limited"]


@pytest.mark.parametrize("fault", EFFECT_DONE)
@pytest.mark.parametrize("op", OPS, ids=str)
def test_an_effect_whose_answer_was_lost_is_found_by_key(clients: Clients, admin: httpx.Client, op: Op,
                                                          fault: str) -> None:
    ctx = op.setup(clients)
    before = clients.faults.posts()
    k = key(op.provider)
    clients.faults.arm(fault)
    result = op.call(clients, k, ctx)
    done = effects(admin, provider=op.provider, idempotency_key=k)
    assert [e["id"] for e in done] == [result.id]
    assert result.idempotency_key == k
    assert clients.faults.posts() - before == 1  # not sent again: the lookup found its effect


@pytest.mark.parametrize("fault", NO_EFFECT)
@pytest.mark.parametrize("op", OPS, ids=str)
def test_a_call_without_effect_is_sent_again_under_the_same_key(clients: Clients, admin: httpx.Client, op: Op,
                                                                 fault: str) -> None:
    ctx = op.setup(clients)
    before = clients.faults.posts()
    k = key(op.provider)
    clients.faults.arm(fault)
    result = op.call(clients, k, ctx)
    done = effects(admin, provider=op.provider, idempotency_key=k)
    assert [e["id"] for e in done] == [result.id]
    assert clients.faults.posts() - before == 2  # the faulted one and one retry
    assert op.by_key(clients, k).id == result.id


@pytest.mark.parametrize("fault", EFFECT_DONE + NO_EFFECT)
def test_reads_are_retried_through_any_fault(clients: Clients, fault: str) -> None:
    k = key("read")
    sent = clients.rails.send_credit_transfer(idempotency_key=k, amount_minor=1500, currency="EUR",
                                              creditor=Party(name="Bob Example", iban=IBAN))
    clients.faults.arm(fault, method="GET")
    assert clients.rails.credit_transfer(sent.id).id == sent.id
    clients.faults.arm(fault, method="GET")
    assert clients.rails.credit_transfer_by_key(k).id == sent.id


@pytest.mark.parametrize("fault", ["connection_dropped", "error_500", "rate_limited", "truncated_body"])
def test_a_quote_has_no_effect_and_is_retried_like_a_read(clients: Clients, fault: str) -> None:
    clients.faults.arm(fault)
    quote = clients.crypto.quote(asset="ETH", fiat_amount_minor=10_000, fiat_currency="EUR")
    assert quote.id.startswith("q_")


def test_a_failing_lookup_is_itself_retried(clients: Clients, admin: httpx.Client) -> None:
    k = key("rails")
    clients.faults.arm("response_lost").arm("error_503", method="GET").arm("connection_dropped", method="GET")
    result = clients.rails.send_credit_transfer(idempotency_key=k, amount_minor=1000, currency="EUR",
                                                creditor=Party(name="Bob Example", iban=IBAN))
    assert [e["id"] for e in effects(admin, provider="rails", idempotency_key=k)] == [result.id]
    assert clients.faults.posts() == 1


def test_a_lookup_that_never_answers_leaves_the_outcome_ambiguous(clients: Clients, admin: httpx.Client) -> None:
    k = key("rails")
    clients.faults.arm("response_lost")
    clients.faults.always["GET"] = "error_503"
    with pytest.raises(ProviderAmbiguous) as caught:
        clients.rails.send_credit_transfer(idempotency_key=k, amount_minor=1000, currency="EUR",
                                           creditor=Party(name="Bob Example", iban=IBAN))
    assert caught.value.idempotency_key == k
    assert clients.faults.posts() == 1  # never re-sent blindly
    # The same key later is the safe retry: the provider answers with the effect it already made.
    clients.faults.always.clear()
    again = clients.rails.send_credit_transfer(idempotency_key=k, amount_minor=1000, currency="EUR",
                                               creditor=Party(name="Bob Example", iban=IBAN))
    assert [e["id"] for e in effects(admin, provider="rails", idempotency_key=k)] == [again.id]


def test_unknown_after_every_attempt_is_ambiguous_with_no_effect(clients: Clients, admin: httpx.Client) -> None:
    k = key("cards")
    clients.faults.always["POST"] = "error_500"
    with pytest.raises(ProviderAmbiguous):
        clients.cards.refund(idempotency_key=k, transaction_ref="txn-2", amount_minor=700, currency="EUR")
    assert clients.faults.posts() == 4  # provider_max_attempts of the test settings
    assert effects(admin, provider="cards", idempotency_key=k) == []


def test_unavailable_after_every_attempt_is_unavailable_with_no_effect(clients: Clients,
                                                                      admin: httpx.Client) -> None:
    k = key("kyc")
    clients.faults.always["POST"] = "error_503"
    with pytest.raises(ProviderUnavailable):
        clients.kyc.create_applicant(idempotency_key=k, external_ref="cust-9", level="full")
    assert clients.faults.posts() == 4
    assert effects(admin, provider="kyc", idempotency_key=k) == []


def test_a_wrong_api_key_is_a_clear_error_sent_once(client_factory, admin: httpx.Client) -> None:
    clients = client_factory(api_key="wrong-" + "x" * 40)
    k = key("rails")
    with pytest.raises(ProviderAuthError) as caught:
        clients.rails.send_credit_transfer(idempotency_key=k, amount_minor=1000, currency="EUR",
                                           creditor=Party(name="Bob Example", iban=IBAN))
    assert caught.value.status == 401
    assert len(clients.faults.sent) == 1
    with pytest.raises(ProviderAuthError):
        clients.rails.credit_transfer("ct_anything")
    assert len(clients.faults.sent) == 2
    assert effects(admin, provider="rails", idempotency_key=k) == []


def test_concurrent_calls_under_one_key_make_one_effect(clients: Clients, admin: httpx.Client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    k = key("rails")

    def send(_: int) -> str:
        return clients.rails.send_credit_transfer(idempotency_key=k, amount_minor=4400, currency="EUR",
                                                  creditor=Party(name="Bob Example", iban=IBAN)).id

    with ThreadPoolExecutor(max_workers=8) as pool:  # the shared pooled client, as saga steps use it
        ids = set(pool.map(send, range(8)))
    assert len(ids) == 1
    assert [e["id"] for e in effects(admin, provider="rails", idempotency_key=k)] == list(ids)


def test_retries_log_neither_the_api_key_nor_account_numbers(clients: Clients) -> None:
    import structlog

    from tests.providers.conftest import API_KEY

    clients.faults.arm("error_500").arm("error_503", method="GET")
    with structlog.testing.capture_logs() as logs:
        clients.rails.send_credit_transfer(idempotency_key=key("rails"), amount_minor=4500, currency="EUR",
                                           creditor=Party(name="Bob Example", iban=IBAN))
    assert {entry["event"] for entry in logs} == {"provider_retry"}
    assert API_KEY not in repr(logs) and IBAN not in repr(logs) and "Bob Example" not in repr(logs)
