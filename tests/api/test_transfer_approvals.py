"""Money asked for on a messaging channel above CHANNEL_APP_APPROVAL_ABOVE_MINOR waits for the customer's
approval in the app (api/transfers/approvals.py). Against the real PostgreSQL and Redis."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from api.config import get_settings
from data.seed import stable_id
from tests.api.helpers import accounts_by_type, balances, is_problem, service_headers


def _conversation(pg, channel: str) -> str:
    conversation_id = uuid.uuid4()
    pg.execute("INSERT INTO conversations (id, customer_id, channel) VALUES (%s, %s, %s)",
               (conversation_id, stable_id("user", "alice"), channel))
    return str(conversation_id)


@pytest.fixture()
def telegram(pg) -> str:
    """A conversation of alice's on Telegram."""
    return _conversation(pg, "telegram")


def _own_body(client: TestClient, alice: dict[str, str], amount: str) -> dict:
    accounts = accounts_by_type(client, alice)
    return {"from_account_id": accounts["checking"]["id"], "to_account_id": accounts["savings"]["id"],
            "amount": amount, "currency": "EUR"}


def _send(client: TestClient, headers: dict[str, str], body: dict, key: str):
    return client.post("/v1/transfers", json=body, headers={**headers, "Idempotency-Key": key})


def _confirmed(client: TestClient, conversation: str, body: dict, key: str):
    """As the assistant does it: state the summary on one message's grant, execute on the next message's."""
    stated = client.post("/v1/transfers/confirmations", json=body, headers=service_headers(conversation))
    assert stated.status_code == 201, stated.text
    return _send(client, service_headers(conversation), {**body, "confirmation_id": stated.json()["confirmation_id"]},
                 key)


def _above_limit() -> str:
    return str(Decimal(get_settings().channel_app_approval_above_minor + 1) / 100)


def test_a_large_transfer_from_a_channel_waits_for_the_app_and_runs_once_approved(
        client: TestClient, alice, telegram: str) -> None:
    body, key = _own_body(client, alice, _above_limit()), uuid.uuid4().hex
    before = balances(client, alice)
    asked = _confirmed(client, telegram, body, key)
    assert asked.status_code == 202, asked.text
    approval = asked.json()
    assert approval["status"] == "awaiting_approval" and approval["channel"] == "telegram"
    assert approval["transfer"]["amount"] == body["amount"]
    assert balances(client, alice) == before, "nothing moves before the approval"
    # The assistant retrying with the same key finds the same approval; another body under it is refused.
    again = _confirmed(client, telegram, body, key)
    assert again.status_code == 202 and again.json()["approval_id"] == approval["approval_id"]
    is_problem(_confirmed(client, telegram, {**body, "amount": "999.99"}, key), 422, "idempotency_key_reused")
    # The assistant cannot approve it; the customer sees it in the app and approves it.
    is_problem(client.post(f"/v1/transfer-approvals/{approval['approval_id']}/approve",
                           headers=service_headers(telegram)), 403, "app_only")
    waiting = client.get("/v1/transfer-approvals", headers=alice)
    assert waiting.status_code == 200 and approval["approval_id"] in [a["approval_id"] for a in waiting.json()]
    approved = client.post(f"/v1/transfer-approvals/{approval['approval_id']}/approve", headers=alice)
    assert approved.status_code == 201, approved.text
    assert approved.json()["status"] == "completed" and approved.json()["amount"] == body["amount"]
    after = balances(client, alice)
    checking, savings = body["from_account_id"], body["to_account_id"]
    assert after[checking][0] == before[checking][0] - Decimal(body["amount"])
    assert after[savings][0] == before[savings][0] + Decimal(body["amount"])
    # Approving again (a lost response) answers the same transfer and moves nothing more.
    replay = client.post(f"/v1/transfer-approvals/{approval['approval_id']}/approve", headers=alice)
    assert replay.status_code == 201 and replay.json()["id"] == approved.json()["id"]
    assert balances(client, alice) == after
    assert approval["approval_id"] not in [a["approval_id"] for a in client.get("/v1/transfer-approvals",
                                                                                 headers=alice).json()]
    is_problem(client.post(f"/v1/transfer-approvals/{approval['approval_id']}/decline", headers=alice), 409,
               "approval_approved")


def test_a_declined_or_expired_approval_moves_nothing(client: TestClient, alice, bob, telegram: str, pg) -> None:
    before = balances(client, alice)
    declined = _confirmed(client, telegram, _own_body(client, alice, _above_limit()), uuid.uuid4().hex)
    assert declined.status_code == 202, declined.text
    approval_id = declined.json()["approval_id"]
    is_problem(client.post(f"/v1/transfer-approvals/{approval_id}/approve", headers=bob), 404, "approval_not_found")
    refused = client.post(f"/v1/transfer-approvals/{approval_id}/decline", headers=alice)
    assert refused.status_code == 200 and refused.json()["status"] == "declined"
    is_problem(client.post(f"/v1/transfer-approvals/{approval_id}/approve", headers=alice), 409, "approval_declined")
    expired = _confirmed(client, telegram, _own_body(client, alice, _above_limit()), uuid.uuid4().hex)
    pg.execute("UPDATE transfer_approvals SET expires_at = now() - interval '1 second' WHERE id = %s",
               (expired.json()["approval_id"],))
    is_problem(client.post(f"/v1/transfer-approvals/{expired.json()['approval_id']}/approve", headers=alice), 409,
               "approval_expired")
    assert balances(client, alice) == before


def test_small_channel_transfers_and_the_web_chat_need_no_approval(client: TestClient, alice, telegram: str,
                                                                    pg) -> None:
    small = str(Decimal(get_settings().channel_app_approval_above_minor) / 100)  # at the limit, not above it
    sent = _confirmed(client, telegram, _own_body(client, alice, small), uuid.uuid4().hex)
    assert sent.status_code == 201, sent.text
    web = _conversation(pg, "web")
    large = _own_body(client, alice, _above_limit())
    assert _send(client, service_headers(web), large, uuid.uuid4().hex).status_code == 201
    assert _send(client, alice, large, uuid.uuid4().hex).status_code == 201


def test_on_a_channel_even_a_transfer_between_own_accounts_needs_the_answer_to_its_summary(
        client: TestClient, alice, telegram: str) -> None:
    body = _own_body(client, alice, "1.00")
    is_problem(_send(client, service_headers(telegram), body, uuid.uuid4().hex), 403, "confirmation_required")
    assert _confirmed(client, telegram, body, uuid.uuid4().hex).status_code == 201
