"""Health, readiness, metrics, request ids, body limits and malformed input."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import internal_client


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_request_id_is_echoed_or_created(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "req-12345678"})
    assert given.headers["x-request-id"] == "req-12345678"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces" and len(made.headers["x-request-id"]) == 32


def test_metrics_exposed(client: TestClient) -> None:
    """On the internal listener (api/internal.py); the public app's requests are counted there too."""
    client.get("/healthz")
    response = internal_client().get("/metrics/")
    assert response.status_code == 200
    assert "python_info" in response.text
    assert 'bankbot_http_requests_total{method="GET",route="/healthz",status="200"}' in response.text


def test_oversize_and_malformed_bodies_are_4xx_problems(client: TestClient, alice) -> None:
    big = client.post("/v1/chat/messages", headers={**alice, "Content-Type": "application/json"},
                      content=b'{"text": "' + b"a" * 70_000 + b'"}')
    assert big.status_code == 413
    assert big.headers["content-type"].startswith("application/problem+json")
    broken = client.post("/v1/chat/messages", headers={**alice, "Content-Type": "application/json"},
                         content=b'{"text": ')
    assert broken.status_code == 400
    assert broken.json()["code"] == "malformed_request"
    wrong_type = client.post("/v1/chat/messages", headers=alice, json={"text": 42})
    assert wrong_type.status_code == 422
    blank = client.post("/v1/chat/messages", headers=alice, json={"text": "   "})
    assert blank.status_code == 422


def test_chat_conversation_of_someone_else_is_404(client: TestClient, alice, bob, pg) -> None:
    import uuid

    from data.seed import stable_id

    conversation_id = uuid.uuid4()
    pg.execute("INSERT INTO conversations (id, customer_id) VALUES (%s, %s)",
               (conversation_id, stable_id("user", "alice")))
    response = client.post("/v1/chat/messages", headers=bob,
                           json={"text": "what's my balance?", "conversation_id": str(conversation_id)})
    assert response.status_code == 404
    assert response.json()["code"] == "conversation_not_found"


def test_values_the_database_refuses_are_422_not_500(client: TestClient, alice) -> None:
    response = client.post("/v1/auth/token", data={"username": "\x00", "password": "x"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    payees = client.get("/v1/transactions", headers=alice, params={"merchant": "Star\x00bucks"})
    assert payees.status_code == 422
