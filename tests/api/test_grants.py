"""The assistant acts for a customer only on the grant of a message the customer sent (api/grants), and
sends money to someone else only after the customer answered the summary in a later message
(api/transfers/confirmations.py). Against the real PostgreSQL and Redis."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from api.config import get_settings
from data.seed import stable_id
from tests.api.helpers import accounts_by_type, internal_client, is_problem, message_grant, service_headers, trade_grant


@pytest.fixture()
def conversation(pg) -> str:
    """A conversation of alice's, as the chat creates it."""
    conversation_id = uuid.uuid4()
    pg.execute("INSERT INTO conversations (id, customer_id) VALUES (%s, %s)", (conversation_id,
                                                                            stable_id("user", "alice")))
    return str(conversation_id)


def _trade(client: TestClient, grant: str, conversation_id: str | None = None):
    return trade_grant(grant, conversation_id)


def test_a_made_up_grant_gives_nothing(client: TestClient, conversation: str) -> None:
    is_problem(_trade(client, "x" * 43, conversation), 401, "invalid_grant")
    is_problem(_trade(client, "é" * 40, conversation), 401, "invalid_grant")


def test_a_grant_is_good_for_a_few_trades_only(client: TestClient, conversation: str) -> None:
    grant = message_grant(conversation)
    for _ in range(get_settings().grant_uses):
        assert _trade(client, grant, conversation).status_code == 200
    is_problem(_trade(client, grant, conversation), 401, "invalid_grant")


def test_a_grant_for_one_conversation_cannot_act_for_another(client: TestClient, conversation: str, pg) -> None:
    bobs = uuid.uuid4()
    pg.execute("INSERT INTO conversations (id, customer_id) VALUES (%s, %s)", (bobs, stable_id("user", "bob")))
    is_problem(_trade(client, message_grant(conversation), str(bobs)), 401, "invalid_grant")
    # Without a conversation id the grant still acts only for its own conversation's customer.
    token = _trade(client, message_grant(str(bobs))).json()["access_token"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["username"] == "bob"


def test_a_grant_expires(client: TestClient, conversation: str) -> None:
    from api.grants import service as grants
    from api.redis_client import redis_for

    grant = message_grant(conversation)
    ttl = redis_for(get_settings().redis_url).ttl(grants._key(grant))
    assert 0 < ttl <= get_settings().grant_ttl_seconds


def _payee_body(client: TestClient, alice: dict[str, str], amount: str = "12.00") -> dict:
    payee = next(p for p in client.get("/v1/payees", headers=alice).json() if p["name"] == "Mary Martin")
    return {"from_account_id": accounts_by_type(client, alice)["checking"]["id"], "payee_id": payee["id"],
            "amount": amount, "currency": "EUR", "reference": "Sent with the assistant"}


def _state(client: TestClient, headers: dict[str, str], body: dict) -> str:
    response = client.post("/v1/transfers/confirmations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["confirmation_id"]


def _send(client: TestClient, headers: dict[str, str], body: dict, key: str | None = None):
    return client.post("/v1/transfers", json=body, headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex})


def test_the_assistant_pays_a_payee_only_after_a_later_message(client: TestClient, alice, conversation: str) -> None:
    body = _payee_body(client, alice)
    stating = service_headers(conversation)
    # No confirmation at all: refused.
    is_problem(_send(client, stating, body), 403, "confirmation_required")
    confirmation = _state(client, stating, body)
    # Stated and executed on the same message's grant: the customer has not answered yet.
    is_problem(_send(client, stating, {**body, "confirmation_id": confirmation}), 403, "confirmation_required")
    answered = service_headers(conversation)  # the customer's next message ("yes")
    # Another amount than the one stated: refused.
    is_problem(_send(client, answered, {**_payee_body(client, alice, "13.00"), "confirmation_id": confirmation}),
               403, "confirmation_required")
    key = uuid.uuid4().hex
    sent = _send(client, answered, {**body, "confirmation_id": confirmation}, key)
    assert sent.status_code == 201, sent.text
    # The same key replays the first answer; another key cannot spend the confirmation again.
    replay = _send(client, answered, {**body, "confirmation_id": confirmation}, key)
    assert replay.status_code == 201 and replay.json()["id"] == sent.json()["id"]
    is_problem(_send(client, answered, {**body, "confirmation_id": confirmation}), 403, "confirmation_required")


def test_a_confirmation_does_not_cross_conversations(client: TestClient, alice, conversation: str, pg) -> None:
    body = _payee_body(client, alice)
    confirmation = _state(client, service_headers(conversation), body)
    other = uuid.uuid4()
    pg.execute("INSERT INTO conversations (id, customer_id) VALUES (%s, %s)", (other, stable_id("user", "alice")))
    service_headers(str(other))  # a message in the other conversation first, so its sequence is ahead
    later = service_headers(str(other))
    is_problem(_send(client, later, {**body, "confirmation_id": confirmation}), 403, "confirmation_required")


def test_own_accounts_and_the_customer_need_no_confirmation(client: TestClient, alice, conversation: str) -> None:
    accounts = accounts_by_type(client, alice)
    own = {"from_account_id": accounts["checking"]["id"], "to_account_id": accounts["savings"]["id"],
           "amount": "1.00", "currency": "EUR"}
    assert _send(client, service_headers(conversation), own).status_code == 201
    assert _send(client, alice, _payee_body(client, alice, "1.00")).status_code == 201


def test_only_the_assistant_states_transfers(client: TestClient, alice) -> None:
    is_problem(client.post("/v1/transfers/confirmations", json=_payee_body(client, alice), headers=alice),
               403, "service_only")


def test_the_internal_endpoints_are_not_on_the_public_listener(client: TestClient, conversation: str) -> None:
    """The token exchange, the transcript ingest and the metrics answer on the internal listener only."""
    grant = message_grant(conversation)
    settings = get_settings()
    exchange = {"client_id": settings.service_client_id, "client_secret": settings.service_client_secret,
                "grant": grant}
    assert client.post("/v1/auth/service-token", json=exchange).status_code == 404
    assert client.post("/v1/transcripts/events", json={"events": []}).status_code == 404
    assert client.get("/metrics/").status_code == 404
    assert internal_client().post("/v1/auth/service-token", json=exchange).status_code == 200
    assert internal_client().get("/metrics/").status_code == 200
    # The internal listener serves nothing of the public API.
    assert internal_client().get("/v1/accounts").status_code == 404


def test_without_redis_no_grant_is_honoured_and_the_answer_is_503(conversation: str, monkeypatch) -> None:
    """Grants live in Redis: when it cannot answer, the exchange is refused cleanly (problem+json), never a 500."""
    from api.config import get_settings

    grant = message_grant(conversation)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens there
    get_settings.cache_clear()
    try:
        is_problem(trade_grant(grant, conversation), 503, "grants_unavailable")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
