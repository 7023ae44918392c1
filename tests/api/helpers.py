"""Small helpers for API tests."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from fastapi.testclient import TestClient


def is_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body


def accounts_by_type(client: TestClient, headers: dict[str, str]) -> dict[str, dict]:
    return {a["type"]: a for a in client.get("/v1/accounts", headers=headers).json()}


def balances(client: TestClient, headers: dict[str, str]) -> dict[str, tuple[Decimal, Decimal]]:
    return {a["id"]: (Decimal(a["balance"]), Decimal(a["available"]))
            for a in client.get("/v1/accounts", headers=headers).json()}


def message_grant(conversation_id: str) -> str:
    """The grant the core puts on a customer message it forwards to Rasa (api/chat/service.py does this
    for every message; these in-process tests have no Rasa, so they issue it as the chat would)."""
    import uuid

    import psycopg

    from api.config import get_settings
    from api.grants import service as grants
    from api.redis_client import redis_for

    settings = get_settings()
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute("SELECT customer_id FROM conversations WHERE id = %s", (conversation_id,)).fetchone()
    assert row is not None, f"no conversation {conversation_id}"
    return grants.issue(client=redis_for(settings.redis_url), conversation_id=uuid.UUID(conversation_id),
                        customer_id=row[0], ttl_seconds=settings.grant_ttl_seconds, uses=settings.grant_uses).token


@cache
def internal_client() -> TestClient:
    """The core's internal listener (api/internal.py), in process: where the action server trades grants."""
    from api.internal import create_internal_app

    return TestClient(create_internal_app(with_ingest=True), raise_server_exceptions=False)


def trade_grant(grant: str, conversation_id: str | None = None, client_secret: str | None = None):
    """POST /v1/auth/service-token on the internal listener, as the action server does."""
    from api.config import get_settings

    settings = get_settings()
    return internal_client().post("/v1/auth/service-token", json={
        "client_id": settings.service_client_id, "client_secret": client_secret or settings.service_client_secret,
        "grant": grant, **({"conversation_id": conversation_id} if conversation_id else {})})


def service_headers(conversation_id: str, grant: str | None = None) -> dict[str, str]:
    """The action server's bearer token, traded for a message's grant (a new message's, by default)."""
    response = trade_grant(grant or message_grant(conversation_id), conversation_id)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
