"""Every customer-scoped endpoint, called with bob's token on alice's resources: 403 or 404, nothing
leaked, nothing changed."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from data.seed import stable_id
from tests.api.helpers import accounts_by_type, service_headers
from tests.conftest import login


@pytest.fixture(scope="module")
def alice_resources(client: TestClient, alice, pg_module) -> dict[str, str]:
    accounts = accounts_by_type(client, alice)
    card = client.get("/v1/cards", headers=alice).json()[0]
    transaction = client.get("/v1/transactions?limit=1", headers=alice).json()["items"][0]
    transfer = client.post("/v1/transfers", headers={**alice, "Idempotency-Key": f"x-{uuid.uuid4()}"},
                           json={"from_account_id": accounts["checking"]["id"],
                                 "to_account_id": accounts["savings"]["id"], "amount": "1.00", "currency": "EUR"})
    conversation = uuid.uuid4()
    pg_module.execute("INSERT INTO conversations (id, customer_id) VALUES (%s, %s)",
                      (conversation, stable_id("user", "alice")))
    return {"checking": accounts["checking"]["id"], "savings": accounts["savings"]["id"], "card": card["id"],
            "transaction": transaction["id"], "transfer": transfer.json()["id"], "conversation": str(conversation)}


def _snapshot(client: TestClient, alice) -> tuple:
    return (client.get("/v1/accounts", headers=alice).json(), client.get("/v1/cards", headers=alice).json(),
            client.get("/v1/transfers", headers=alice).json())


CASES = [
    ("GET", "/v1/accounts/{checking}/balance", None),
    ("GET", "/v1/accounts/{checking}/balance?as_of=2026-01-01T00:00:00Z", None),
    ("GET", "/v1/transactions?account_id={checking}", None),
    ("GET", "/v1/insights/spending?account_id={checking}", None),
    ("GET", "/v1/transfers/{transfer}", None),
    ("POST", "/v1/transfers", {"from_account_id": "{checking}", "to_account_id": "{savings}", "amount": "1.00",
                               "currency": "EUR"}),
    ("POST", "/v1/cards/{card}/freeze", None),
    ("POST", "/v1/cards/{card}/unfreeze", None),
    ("GET", "/v1/cards/{card}/authorizations", None),
    ("POST", "/v1/fraud-reports", {"kind": "compromised_card", "card_id": "{card}", "freeze_card": True}),
    ("POST", "/v1/fraud-reports", {"kind": "card_payment_not_recognised", "transaction_id": "{transaction}"}),
    ("GET", "/v1/conversations/{conversation}/transcript", None),
    ("POST", "/v1/chat/messages", {"text": "hello", "conversation_id": "{conversation}"}),
]


@pytest.mark.parametrize("caller", ["bob", "assistant_for_bob"])
@pytest.mark.parametrize(("method", "path", "body"), CASES)
def test_bob_gets_nothing_of_alices(client: TestClient, alice, alice_resources, request, caller, method, path,
                                    body) -> None:
    """Bob himself, and the assistant acting on the grant of a message of bob's: 403 or 404, nothing leaked."""
    headers = request.getfixturevalue(caller)
    before = _snapshot(client, alice)
    url = path.format(**alice_resources)
    json_body = {k: v.format(**alice_resources) if isinstance(v, str) else v for k, v in (body or {}).items()}
    response = client.request(method, url, headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                              json=json_body if body else None)
    assert response.status_code in (403, 404), (url, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    answer = {k: v for k, v in response.json().items() if k != "instance"}  # instance: the caller's own URL
    for value in alice_resources.values():
        assert value not in str(answer)
    assert _snapshot(client, alice) == before


AGENT_CASES = [
    ("GET", "/v1/conversations/{conversation}/transcript", None),
    ("POST", "/v1/handoffs/{handoff}/messages", {"text": "still here?"}),
    ("POST", "/v1/handoffs/{handoff}/claim", None),
]


@pytest.fixture(scope="module")
def staff(client: TestClient) -> dict[str, dict[str, str]]:
    return {"agent": login(client, "agent"), "compliance": login(client, "compliance")}


@pytest.mark.parametrize(("method", "path", "body"), AGENT_CASES)
def test_an_agent_gets_nothing_after_release(client: TestClient, alice, alice_resources, staff, pg_module, method,
                                             path, body) -> None:
    """The agent who held a handoff of alice's conversation, after it was released: 404 or 409, nothing leaked."""
    agent = staff["agent"]
    conversation = alice_resources["conversation"]
    handoff = uuid.uuid4()
    pg_module.execute("UPDATE handoffs SET status = 'closed', closed_at = now() "
                      "WHERE conversation_id = %s AND status <> 'closed'", (conversation,))
    pg_module.execute("INSERT INTO handoffs (id, conversation_id, customer_id, status, agent_id, claimed_at) "
                      "VALUES (%s, %s, %s, 'active', %s, now())",
                      (handoff, conversation, stable_id("user", "alice"), stable_id("user", "agent")))
    transcript = f"/v1/conversations/{conversation}/transcript"
    assert client.get(transcript, headers=agent).status_code == 200  # while held, the agent reads it
    pg_module.execute("UPDATE handoffs SET status = 'closed', closed_at = now() WHERE id = %s", (handoff,))
    before = client.get(transcript, headers=alice).json()
    url = path.format(handoff=handoff, **alice_resources)
    response = client.request(method, url, headers=agent, json=body)
    assert response.status_code in (404, 409), (url, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "messages" not in response.json()
    assert client.get(transcript, headers=alice).json() == before
    assert client.get(transcript, headers=staff["compliance"]).status_code == 200  # compliance keeps access


@pytest.fixture(scope="module")
def assistant_for_bob(client: TestClient, pg_module) -> dict[str, str]:
    """The action server's token on the grant of a message bob sent in his own conversation."""
    conversation = uuid.uuid4()
    pg_module.execute("INSERT INTO conversations (id, customer_id) VALUES (%s, %s)",
                      (conversation, stable_id("user", "bob")))
    return service_headers(str(conversation))

