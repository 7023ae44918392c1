"""Each saga flow through the API against the provider sandbox, with two real saga workers."""

from __future__ import annotations

import json
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest
import redis

from api.sagas.relay import STREAM
from api.webhooks.signing import sign
from bench.saga_stack import TEST_REDIS_BASE, SagaStack, counterparty

pytestmark = pytest.mark.e2e


def _accounts(client: httpx.Client, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {a["type"]: a for a in client.get("/v1/accounts", headers=headers).json()}


def _send(client: httpx.Client, headers: dict[str, str], account_id: str, amount: str, n: int) -> dict[str, Any]:
    response = client.post("/v1/transfers", headers={**headers, "Idempotency-Key": str(uuid.uuid4())}, json={
        "from_account_id": account_id, "counterparty": counterparty(n), "amount": amount, "currency": "EUR"})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    return response.json()


def _wait_transfer(stack: SagaStack, client: httpx.Client, headers: dict[str, str], transfer_id: str,
                   status: str, *, timeout: float = 60) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def reached() -> bool:
        seen.update(client.get(f"/v1/transfers/{transfer_id}", headers=headers).json())
        return seen.get("status") == status

    assert stack.wait_until(reached, timeout=timeout), seen
    return seen


def test_an_external_transfer_is_paid_on_the_rails_and_settles(sagas: SagaStack) -> None:
    with sagas.core() as client, sagas.sandbox() as sandbox:
        alice = sagas.login(client, "alice")
        checking = _accounts(client, alice)["checking"]
        created = _send(client, alice, checking["id"], "12.40", 1)
        after_hold = _accounts(client, alice)["checking"]
        assert Decimal(after_hold["available"]) == Decimal(checking["available"]) - Decimal("12.40")
        done = _wait_transfer(sagas, client, alice, created["id"], "completed")
        names = [step["name"] for step in done["steps"]]
        assert names[0] == "created" and "sent" in names and names[-1] == "settled", names
        after = _accounts(client, alice)["checking"]
        assert Decimal(after["balance"]) == Decimal(checking["balance"]) - Decimal("12.40")
        effects = sandbox.get("/sandbox/effects", params={"idempotency_key": f"transfer_out:{created['id']}"}).json()
        assert len(effects) == 1 and effects[0]["amount_minor"] == 1240, effects

    # The news went out through the outbox: written with the settlement, relayed to the notifications stream.
    stream = redis.Redis.from_url(f"{TEST_REDIS_BASE}/6")

    def announced() -> list[dict[bytes, bytes]]:
        return [fields for _, fields in stream.xrange(STREAM)
                if fields[b"topic"] == b"transfer.completed" and fields[b"subject_id"] == created["id"].encode()]
    assert sagas.wait_until(lambda: bool(announced()), timeout=30)
    assert len(announced()) == 1 and json.loads(announced()[0][b"payload"])["amount"] == 1240


def test_a_transfer_the_rails_refuse_fails_and_releases_the_money(sagas: SagaStack) -> None:
    with sagas.core() as client:
        alice = sagas.login(client, "alice")
        before = _accounts(client, alice)["checking"]
        created = _send(client, alice, before["id"], "3.13", 2)  # ends in 13: AC01 at the sandbox
        failed = _wait_transfer(sagas, client, alice, created["id"], "failed")
        assert failed["failure_reason"] == "account_details_wrong"
        assert failed["steps"][-1]["name"] == "rejected" and failed["steps"][-1]["error"]
        after = _accounts(client, alice)["checking"]
        assert after["available"] == before["available"] and after["balance"] == before["balance"]


def test_a_transfer_returned_days_later_gives_the_money_back(sagas: SagaStack) -> None:
    with sagas.core() as client, sagas.sandbox() as sandbox:
        alice = sagas.login(client, "alice")
        before = _accounts(client, alice)["checking"]
        created = _send(client, alice, before["id"], "7.66", 3)  # ends in 66: R01 three days after settling
        _wait_transfer(sagas, client, alice, created["id"], "completed")
        assert sandbox.post("/sandbox/clock/advance", json={"seconds": 4 * 86400}).status_code == 200
        returned = _wait_transfer(sagas, client, alice, created["id"], "failed")
        assert returned["failure_reason"] == "returned_insufficient_funds"
        assert [s["name"] for s in returned["steps"]][-2:] == ["settled", "returned"]
        after = _accounts(client, alice)["checking"]
        assert after["balance"] == before["balance"] and after["available"] == before["available"]


def test_money_coming_in_is_credited_once(sagas: SagaStack) -> None:
    with sagas.core() as client, sagas.sandbox() as sandbox:
        alice = sagas.login(client, "alice")
        savings = _accounts(client, alice)["savings"]
        # Delivered twice, and followed by a well-signed event about a payment the rails never received.
        answer = sandbox.post("/sandbox/rails/incoming", headers={"X-Sandbox-Fault": "duplicate,unknown_object"}, json={
            "amount_minor": 2500, "currency": "EUR", "account_id": savings["id"], "debtor_name": "Dora Sender",
            "debtor_iban": counterparty(9)["iban"], "reference": "Rent share"})
        assert answer.status_code in (200, 201), answer.text

        def credited() -> bool:
            return Decimal(_accounts(client, alice)["savings"]["balance"]) == Decimal(savings["balance"]) + 25
        assert sagas.wait_until(credited, timeout=30)

        def both_delivered() -> bool:  # the event and its duplicate, each answered 2xx by the core
            attempts = sandbox.get("/sandbox/webhooks", params={"provider": "rails"}).json()
            received = [a for a in attempts if a["type"] == "credit_transfer.received"]
            return sum(1 for a in received if a["status_code"] == 200) >= 2
        assert sagas.wait_until(both_delivered, timeout=30)
        with psycopg.connect(sagas.database_url, autocommit=True) as conn:
            def refused() -> bool:  # the announced payment the rails do not have: failed, nothing credited
                row = conn.execute("SELECT count(*) FROM sagas WHERE kind = 'incoming_credit' AND status = 'failed' "
                                   "AND failure_reason LIKE 'the rails have no such payment%'").fetchone()
                return row is not None and row[0] >= 1
            assert sagas.wait_until(refused, timeout=30)
            count = conn.execute("SELECT count(*) FROM ledger_transactions WHERE kind = 'incoming_transfer'").fetchone()
        assert count == (1,)
        assert Decimal(_accounts(client, alice)["savings"]["balance"]) == Decimal(savings["balance"]) + 25


def test_a_provider_webhook_with_a_bad_signature_is_refused(sagas: SagaStack) -> None:
    body = json.dumps({"event_id": "evt_forged", "type": "credit_transfer.settled",
                       "data": {"id": "ct_x", "idempotency_key": "transfer_out:x", "status": "settled"}}).encode()
    with sagas.core() as client:
        answer = client.post("/v1/webhooks/rails", content=body, headers={
            "X-Timestamp": str(int(time.time())), "X-Signature": sign("wrong-secret", int(time.time()), body)})
        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("application/problem+json")
        with psycopg.connect(sagas.database_url) as conn:
            assert conn.execute("SELECT count(*) FROM provider_webhook_events WHERE event_id = 'evt_forged'"
                                ).fetchone() == (0,)


def test_kyc_verdict_sets_the_customer_s_status(sagas: SagaStack) -> None:
    with sagas.core() as client:
        bob = sagas.login(client, "bob")
        started = client.post("/v1/kyc/applications", headers=bob, json={"level": "full"})
        assert started.status_code == 202, started.text
        with psycopg.connect(sagas.database_url) as conn:
            def decided() -> bool:
                row = conn.execute("SELECT status FROM sagas WHERE id = %s", (started.json()["application_id"],)
                                   ).fetchone()
                return row is not None and row[0] == "completed"
            assert sagas.wait_until(decided, timeout=30)
        assert client.get("/v1/kyc", headers=bob).json()["status"] == "verified"


def test_a_card_refund_credits_the_card_s_account_and_nets_out_the_spending(sagas: SagaStack) -> None:
    with sagas.core() as client:
        alice = sagas.login(client, "alice")
        payment = client.get("/v1/transactions", headers=alice, params={"category": "restaurants", "limit": 1}).json()
        payment = payment["items"][0] if isinstance(payment, dict) else payment[0]
        checking = _accounts(client, alice)["checking"]
        # The refund is posted when it happens: spending from the payment's day to today nets it out.
        window = {"from": payment["posted_at"][:10], "to": (date.today() + timedelta(days=1)).isoformat(),
                  "category": "restaurants"}
        spent = client.get("/v1/insights/spending", headers=alice, params=window).json()["total"]
        asked = client.post("/v1/card-refunds", headers=alice, json={"transaction_id": payment["id"], "amount": "1.00"})
        assert asked.status_code == 202, asked.text
        assert client.post("/v1/card-refunds", headers=alice,  # one refund per payment: the same one again
                           json={"transaction_id": payment["id"]}).json()["refund_id"] == asked.json()["refund_id"]

        def refunded() -> bool:
            return client.get(f"/v1/card-refunds/{payment['id']}", headers=alice).json()["status"] == "refunded"
        assert sagas.wait_until(refunded, timeout=30)
        assert Decimal(_accounts(client, alice)["checking"]["balance"]) == Decimal(checking["balance"]) + 1
        after = client.get("/v1/insights/spending", headers=alice, params=window).json()["total"]
        assert Decimal(after) == Decimal(spent) - 1


def test_a_refund_the_processor_refuses_fails_and_credits_nothing(sagas: SagaStack) -> None:
    with sagas.core() as client:
        alice = sagas.login(client, "alice")
        payment = client.get("/v1/transactions", headers=alice, params={"category": "groceries", "limit": 1}).json()
        payment = payment["items"][0] if isinstance(payment, dict) else payment[0]
        before = _accounts(client, alice)["checking"]
        asked = client.post("/v1/card-refunds", headers=alice, json={"transaction_id": payment["id"], "amount": "0.13"})
        assert asked.status_code == 202, asked.text

        def failed() -> bool:
            return client.get(f"/v1/card-refunds/{payment['id']}", headers=alice).json()["status"] == "failed"
        assert sagas.wait_until(failed, timeout=30)
        assert _accounts(client, alice)["checking"]["balance"] == before["balance"]
        bob = sagas.login(client, "bob")  # another customer's payment looks like none
        assert client.post("/v1/card-refunds", headers=bob, json={"transaction_id": payment["id"]}).status_code == 404
        too_much = client.post("/v1/card-refunds", headers=alice, json={
            "transaction_id": payment["id"], "amount": str(Decimal(payment["amount"]).copy_abs() + 1)})
        assert too_much.status_code == 422


ETH_ADDRESS = "0x" + "ab12" * 10


def _buy(client: httpx.Client, headers: dict[str, str], amount: str, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    quote = client.post("/v1/crypto/quotes", headers=headers, json={"asset": "ETH", "amount": amount,
                                                                    "currency": "EUR"})
    assert quote.status_code == 201, quote.text
    assert Decimal(quote.json()["total"]) == Decimal(amount) + Decimal(quote.json()["network_fee"]) > Decimal(amount)
    bought = client.post("/v1/crypto/purchases", headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                         json={"quote_id": quote.json()["quote_id"], "destination_address": ETH_ADDRESS,
                               "pay_from": {"name": "Alice at her other bank", "iban": counterparty(n)["iban"]}})
    assert bought.status_code == 202, bought.text
    return quote.json(), bought.json()


def _wait_purchase(sagas: SagaStack, client: httpx.Client, headers: dict[str, str], purchase_id: str,
                   status: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def reached() -> bool:
        seen.update(client.get(f"/v1/crypto/purchases/{purchase_id}", headers=headers).json())
        return seen.get("status") == status
    assert sagas.wait_until(reached, timeout=60), seen
    return seen


def test_a_crypto_purchase_pulls_the_money_then_sends_the_crypto(sagas: SagaStack) -> None:
    with sagas.core() as client, sagas.sandbox() as sandbox:
        alice = sagas.login(client, "alice")
        before = _accounts(client, alice)["checking"]
        quote, bought = _buy(client, alice, "20.00", 21)
        done = _wait_purchase(sagas, client, alice, bought["purchase_id"], "completed")
        assert [s["name"] for s in done["steps"]][-1] == "confirmed"
        # In from the other bank, out to the gateway: the account ends where it began.
        assert _accounts(client, alice)["checking"]["balance"] == before["balance"]
        pulls = sandbox.get("/sandbox/effects", params={"kind": "direct_debit"}).json()
        assert [p["amount_minor"] for p in pulls if p["idempotency_key"].startswith(bought["purchase_id"])] == \
            [int(Decimal(quote["total"]) * 100)]


def test_a_failed_crypto_leg_sends_the_money_back_where_it_came_from(sagas: SagaStack) -> None:
    with sagas.core() as client, sagas.sandbox() as sandbox:
        alice = sagas.login(client, "alice")
        before = _accounts(client, alice)["checking"]
        quote, bought = _buy(client, alice, "10.13", 22)  # ends in 13: the network rejects the transfer
        refunded = _wait_purchase(sagas, client, alice, bought["purchase_id"], "refunded")
        assert "refunded" in [s["name"] for s in refunded["steps"]]
        assert _accounts(client, alice)["checking"]["balance"] == before["balance"]
        refunds = sandbox.get("/sandbox/effects", params={"idempotency_key": f"{bought['purchase_id']}.refund"}).json()
        assert len(refunds) == 1 and refunds[0]["amount_minor"] == int(Decimal(quote["total"]) * 100)


def test_a_crypto_transfer_dropped_after_confirmation_is_credited_back(sagas: SagaStack) -> None:
    with sagas.core() as client, sagas.sandbox() as sandbox:
        alice = sagas.login(client, "alice")
        before = _accounts(client, alice)["checking"]
        quote, bought = _buy(client, alice, "5.66", 23)  # ends in 66: confirmed, then dropped an hour later
        _wait_purchase(sagas, client, alice, bought["purchase_id"], "completed")
        assert sandbox.post("/sandbox/clock/advance", json={"seconds": 2 * 3600}).status_code == 200
        _wait_purchase(sagas, client, alice, bought["purchase_id"], "refunded")
        after = _accounts(client, alice)["checking"]
        assert Decimal(after["balance"]) == Decimal(before["balance"]) + Decimal(quote["total"])


def test_a_saga_whose_provider_never_answers_is_dead_lettered_with_an_alert(sagas: SagaStack) -> None:
    with sagas.core() as client, sagas.sandbox() as sandbox:
        alice = sagas.login(client, "alice")
        before = _accounts(client, alice)["checking"]
        # Every call to the providers fails with a 503 from now on: the saga's provider step runs out of tries.
        assert sandbox.post("/sandbox/faults", json={"rate": 1.0, "seed": 5, "kinds": ["error_503"]}).status_code \
            in (200, 204)
        try:
            created = _send(client, alice, before["id"], "4.20", 31)
            with psycopg.connect(sagas.database_url) as conn:
                def dead() -> bool:
                    row = conn.execute("SELECT status FROM sagas WHERE id = %s",
                                       (f"transfer_out:{created['id']}",)).fetchone()
                    conn.commit()
                    return row is not None and row[0] == "dead_lettered"
                assert sagas.wait_until(dead, timeout=60)
                alert = conn.execute("SELECT payload FROM outbox WHERE topic = 'saga.dead_lettered' "
                                     "AND subject_id = %s", (created["id"],)).fetchone()
            assert alert is not None and alert[0]["alert"] is True
        finally:
            sandbox.delete("/sandbox/faults")
        delayed = client.get(f"/v1/transfers/{created['id']}", headers=alice).json()
        # The money stays reserved, never silently released or sent: an operator decides.
        assert delayed["status"] == "pending" and delayed["steps"][-1]["name"] == "dead_lettered"
        assert Decimal(_accounts(client, alice)["checking"]["available"]) == Decimal(before["available"]) - \
            Decimal("4.20")
        compliance = sagas.login(client, "compliance")
        listed = client.get("/v1/sagas", headers=compliance, params={"status": "dead_lettered"}).json()
        assert f"transfer_out:{created['id']}" in [s["id"] for s in listed]
        assert client.get("/v1/sagas", headers=alice).status_code == 403


def test_money_whose_webhook_never_comes_is_found_in_the_statement(sagas: SagaStack) -> None:
    with sagas.core() as client, sagas.sandbox() as sandbox:
        alice = sagas.login(client, "alice")
        savings = _accounts(client, alice)["savings"]
        answer = sandbox.post("/sandbox/rails/incoming", headers={"X-Sandbox-Fault": "never"}, json={
            "amount_minor": 4321, "currency": "EUR", "account_id": savings["id"], "debtor_name": "Quiet Sender",
            "debtor_iban": counterparty(41)["iban"]})
        assert answer.status_code in (200, 201), answer.text
        attempts = sandbox.get("/sandbox/webhooks", params={"provider": "rails"}).json()
        assert all(a["status_code"] is None for a in attempts if a["object_id"] == answer.json()["id"])

        def credited() -> bool:
            return Decimal(_accounts(client, alice)["savings"]["balance"]) == Decimal(savings["balance"]) + \
                Decimal("43.21")
        assert sagas.wait_until(credited, timeout=30)
