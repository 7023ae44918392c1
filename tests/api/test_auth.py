"""Sign-in, /v1/me and token checks against the real database."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient

from api.config import get_settings
from data.seed import stable_id
from tests.api.helpers import internal_client, is_problem, message_grant, service_headers, trade_grant


def _problem(response) -> dict:
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    return response.json()


def test_login_then_me(client: TestClient, alice: dict[str, str]) -> None:
    me = client.get("/v1/me", headers=alice)
    assert me.status_code == 200
    body = me.json()
    assert body["username"] == "alice"
    assert body["full_name"] == "Alice Martin"
    assert body["roles"] == ["customer"]
    assert body["kyc_status"] == "verified"


def test_wrong_password_and_unknown_user_get_the_same_401(client: TestClient) -> None:
    wrong = client.post("/v1/auth/token", data={"username": "alice", "password": "not-it"})
    unknown = client.post("/v1/auth/token", data={"username": "mallory", "password": "demo-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert _problem(wrong)["code"] == _problem(unknown)["code"] == "invalid_credentials"


def test_login_needs_both_fields(client: TestClient) -> None:
    response = client.post("/v1/auth/token", data={"username": "alice"})
    assert response.status_code == 422
    assert _problem(response)["code"] == "validation_error"


def test_staff_roles(client: TestClient) -> None:
    for username, role in (("agent", "agent"), ("compliance", "compliance")):
        token = client.post("/v1/auth/token", data={"username": username, "password": "demo-password"})
        me = client.get("/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        assert me.json()["roles"] == [role]


def _claims(username: str, **overrides) -> dict:
    settings = get_settings()
    now = datetime.now(UTC)
    claims = {"iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": str(stable_id("user", username)),
              "iat": now, "exp": now + timedelta(minutes=5), "roles": ["customer"], "preferred_username": username}
    claims.update(overrides)
    return claims


def test_bad_tokens_get_401(client: TestClient, alice: dict[str, str]) -> None:
    settings = get_settings()
    good = alice["Authorization"].split()[1]
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(stable_id("user", "bob"))  # same signature, someone else's subject
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    tampered = f"{header}.{forged}.{signature}"
    expired = jwt.encode(_claims("alice", exp=datetime.now(UTC) - timedelta(minutes=1)), settings.jwt_secret,
                         algorithm="HS256")
    wrong_key = jwt.encode(_claims("alice"), "another-secret-that-is-long-enough-0123456789", algorithm="HS256")
    wrong_audience = jwt.encode(_claims("alice", aud="someone-else"), settings.jwt_secret, algorithm="HS256")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    none_payload = base64.urlsafe_b64encode(
        json.dumps({k: (v.timestamp() if isinstance(v, datetime) else v) for k, v in _claims("alice").items()})
        .encode()).decode().rstrip("=")
    alg_none = f"{none_header}.{none_payload}."
    for token in (tampered, expired, wrong_key, wrong_audience, alg_none, "garbage", ""):
        response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (token, response.text)
        assert _problem(response)["status"] == 401
    assert client.get("/v1/me").status_code == 401


def test_service_token_acts_only_for_the_conversation_customer(client: TestClient, pg) -> None:
    conversation_id = uuid.uuid4()
    pg.execute("INSERT INTO conversations (id, customer_id) VALUES (%s, %s)",
               (conversation_id, stable_id("user", "bob")))
    grant = message_grant(str(conversation_id))
    assert trade_grant(grant, str(conversation_id), client_secret="wrong-secret-wrong").status_code == 401
    # The client secret and a conversation id give nothing without the grant of a real message.
    settings = get_settings()
    no_grant = internal_client().post("/v1/auth/service-token", json={
        "client_id": settings.service_client_id, "client_secret": settings.service_client_secret,
        "conversation_id": str(conversation_id)})
    assert no_grant.status_code == 422
    is_problem(trade_grant(grant, str(uuid.uuid4())), 401, "invalid_grant")
    headers = service_headers(str(conversation_id), grant)
    assert client.get("/v1/me", headers=headers).json()["username"] == "bob"
    names = {a["name"] for a in client.get("/v1/accounts", headers=headers).json()}
    bob_ids = {a["id"] for a in client.get("/v1/accounts", headers=headers).json()}
    assert names and str(stable_id("account", "alice", "checking")) not in bob_ids
