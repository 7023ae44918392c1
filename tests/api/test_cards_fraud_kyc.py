"""Cards, fraud reports, KYC webhooks and the audit log."""

from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.config import get_settings
from api.webhooks.signing import sign
from tests.api.helpers import is_problem
from tests.conftest import login


def _card(client: TestClient, headers) -> dict:
    cards = client.get("/v1/cards", headers=headers).json()
    assert len(cards) == 1
    return cards[0]


def _audit_count(pg, action: str, target: str) -> int:
    return pg.execute("SELECT count(*) FROM audit_log WHERE action = %s AND target_id = %s",
                      (action, target)).fetchone()[0]


def test_freeze_and_unfreeze_are_idempotent_and_audited(client: TestClient, bob, pg) -> None:
    card = _card(client, bob)
    assert card["status"] == "active" and len(card["last4"]) == 4
    first = client.post(f"/v1/cards/{card['id']}/freeze", headers=bob)
    second = client.post(f"/v1/cards/{card['id']}/freeze", headers=bob)
    assert first.json()["status"] == second.json()["status"] == "frozen"
    assert _audit_count(pg, "card.freeze", card["id"]) == 1
    assert client.post(f"/v1/cards/{card['id']}/unfreeze", headers=bob).json()["status"] == "active"
    assert client.post(f"/v1/cards/{card['id']}/unfreeze", headers=bob).json()["status"] == "active"
    assert _audit_count(pg, "card.unfreeze", card["id"]) == 1


def test_declines_carry_reason_codes(client: TestClient, alice) -> None:
    card = _card(client, alice)
    declines = client.get(f"/v1/cards/{card['id']}/authorizations?status=declined", headers=alice).json()
    assert declines and all(d["status"] == "declined" for d in declines)
    reasons = {d["decline_reason"] for d in declines}
    assert reasons <= {"insufficient_funds", "card_frozen", "limit_exceeded", "suspected_fraud", "expired_card",
                       "incorrect_pin"}
    assert len(reasons) >= 4 and all(d["advice"] for d in declines)
    latest = client.get("/v1/authorizations?status=declined&limit=1", headers=alice).json()
    assert latest[0]["id"] == declines[0]["id"]


def test_fraud_report_freezes_the_card_and_opens_a_case(client: TestClient, pg) -> None:
    alice = login(client, "alice")
    card = _card(client, alice)
    response = client.post("/v1/fraud-reports", headers=alice,
                           json={"kind": "lost_or_stolen_card", "card_id": card["id"], "freeze_card": True})
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["status"] == "open" and case["card_frozen"] and "replacement" in case["next_steps"]
    assert _card(client, alice)["status"] == "frozen"
    assert _audit_count(pg, "fraud_case.open", case["id"]) == 1
    compliance = login(client, "compliance")
    listed = client.get("/v1/fraud-cases?status=open", headers=compliance).json()
    assert case["id"] in {c["id"] for c in listed}
    updated = client.patch(f"/v1/fraud-cases/{case['id']}", headers=compliance,
                           json={"status": "resolved", "note": "card replaced"})
    assert updated.status_code == 200 and updated.json()["status"] == "resolved"
    is_problem(client.patch(f"/v1/fraud-cases/{case['id']}", headers=compliance, json={"status": "open"}), 409)
    is_problem(client.get("/v1/fraud-cases", headers=alice), 403, "forbidden_role")
    client.post(f"/v1/cards/{card['id']}/unfreeze", headers=alice)


def test_fraud_report_about_a_transaction(client: TestClient, alice) -> None:
    payment = client.get("/v1/transactions?category=coffee&limit=1", headers=alice).json()["items"][0]
    response = client.post("/v1/fraud-reports", headers=alice,
                           json={"kind": "card_payment_not_recognised", "transaction_id": payment["id"]})
    assert response.status_code == 201 and not response.json()["card_frozen"]


@pytest.mark.parametrize("body", [
    {"kind": "lost_or_stolen_card"}, {"kind": "not_a_kind", "card_id": str(uuid.uuid4())},
    {"kind": "compromised_card", "card_id": str(uuid.uuid4())},
    {"kind": "card_payment_not_recognised", "transaction_id": str(uuid.uuid4())},
    {"kind": "card_payment_not_recognised", "transaction_id": "x"},
])
def test_bad_fraud_reports_are_4xx(client: TestClient, alice, pg, body) -> None:
    before = pg.execute("SELECT count(*) FROM fraud_cases").fetchone()[0]
    response = client.post("/v1/fraud-reports", headers=alice, json=body)
    assert 400 <= response.status_code < 500
    assert pg.execute("SELECT count(*) FROM fraud_cases").fetchone()[0] == before


def _kyc(client: TestClient, payload: dict, *, secret: str | None = None, age: int = 0, signature: str | None = None):
    body = json.dumps(payload).encode()
    timestamp = int(time.time()) - age
    headers = {"Content-Type": "application/json", "X-Timestamp": str(timestamp),
               "X-Signature": signature or sign(secret or get_settings().kyc_webhook_secret, timestamp, body)}
    return client.post("/v1/webhooks/kyc", content=body, headers=headers)


def test_kyc_webhook_verifies_signature_and_is_idempotent(client: TestClient, pg) -> None:
    event = {"event_id": f"evt-{uuid.uuid4().hex}", "username": "bob", "status": "rejected"}
    is_problem(_kyc(client, event, secret="another-secret-entirely"), 401, "signature_invalid")
    is_problem(_kyc(client, event, age=3600), 401, "signature_expired")
    is_problem(client.post("/v1/webhooks/kyc", json=event), 401, "signature_missing")
    non_ascii = client.post("/v1/webhooks/kyc", json=event, headers={
        "X-Timestamp": str(int(time.time())), "X-Signature": "sha256=caf\u00e9".encode()})
    is_problem(non_ascii, 401, "signature_invalid")  # compare_digest on a non-ASCII str raised: a 500
    bob = login(client, "bob")
    assert client.get("/v1/kyc", headers=bob).json()["status"] == "pending"
    first = _kyc(client, event)
    assert first.status_code == 200 and first.json()["applied"] is True
    assert _kyc(client, event).json()["applied"] is False
    assert client.get("/v1/kyc", headers=bob).json()["status"] == "rejected"
    _kyc(client, {"event_id": f"evt-{uuid.uuid4().hex}", "username": "bob", "status": "pending"})
    assert client.get("/v1/kyc", headers=bob).json()["status"] == "pending"


def test_audit_log_is_append_only(pg) -> None:
    assert pg.execute("SELECT count(*) FROM audit_log").fetchone()[0] > 0
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(psycopg.errors.RaiseException):
            pg.execute(statement)


def test_refresh_rotates_and_reuse_revokes_the_family(client: TestClient) -> None:
    first = client.post("/v1/auth/token", data={"username": "alice", "password": "demo-password"}).json()
    second = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    new = second.json()
    assert new["refresh_token"] != first["refresh_token"]
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {new['access_token']}"}).status_code == 200
    is_problem(client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}), 401,
               "refresh_token_reused")
    # The reuse revoked the whole family, so the newest refresh token is dead too.
    is_problem(client.post("/v1/auth/refresh", json={"refresh_token": new["refresh_token"]}), 401)


def test_login_is_rate_limited(client: TestClient) -> None:
    statuses = [client.post("/v1/auth/token", data={"username": "ratelimit-probe", "password": "nope"}).status_code
                for _ in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[-1] == 429
