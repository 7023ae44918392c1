"""Each saga flow through the API against the provider sandbox, with two real saga workers."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest

from api.webhooks.signing import sign
from bench.saga_stack import SagaStack, counterparty

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
        answer = sandbox.post("/sandbox/rails/incoming", json={
            "amount_minor": 2500, "currency": "EUR", "account_id": savings["id"], "debtor_name": "Dora Sender",
            "debtor_iban": counterparty(9)["iban"], "reference": "Rent share"}, headers={"X-Sandbox-Fault": "duplicate"})
        assert answer.status_code in (200, 201), answer.text

        def credited() -> bool:
            return Decimal(_accounts(client, alice)["savings"]["balance"]) == Decimal(savings["balance"]) + 25
        assert sagas.wait_until(credited, timeout=30)
        time.sleep(0)  # the duplicate event is delivered before or after; the balance must not move again
        with psycopg.connect(sagas.database_url) as conn:
            count = conn.execute("SELECT count(*) FROM ledger_transactions WHERE kind = 'incoming_transfer'").fetchone()
        assert count == (1,)


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
