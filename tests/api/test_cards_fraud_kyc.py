"""Cards, fraud reports, KYC webhooks and the audit log."""

from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth.security import issue_token
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
    # A lost card's block is not the customer's to lift (test_a_block_after_a_report_is_support_only).
    is_problem(client.post(f"/v1/cards/{card['id']}/unfreeze", headers=alice), 409, "card_blocked_after_report")
    _support_lifts_the_block(pg, card["id"])


def _support_lifts_the_block(pg, card_id: str) -> None:
    """What support does after review (no API of the core): the card is active again."""
    pg.execute("UPDATE cards SET status = 'active', freeze_reason = NULL WHERE id = %s", (card_id,))


def _service_for(pg, username: str) -> dict[str, str]:
    """A token of the action server acting for `username` in a fresh conversation (as the core issues it)."""
    conversation = uuid.uuid4()
    customer = pg.execute("INSERT INTO conversations (id, customer_id) SELECT %s, id FROM users WHERE username = %s "
                          "RETURNING customer_id", (conversation, username)).fetchone()[0]
    settings = get_settings()
    token = issue_token(settings, subject=f"service:{settings.service_client_id}", username=settings.service_client_id,
                        roles=["service"], minutes=2, acting_for=customer, conversation_id=conversation)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("kind", ["lost_or_stolen_card", "compromised_card"])
def test_a_block_after_a_report_is_support_only(client: TestClient, alice, pg, kind) -> None:
    card = _card(client, alice)
    assert card["status"] == "active"
    reported = client.post("/v1/fraud-reports", headers=alice, json={"kind": kind, "card_id": card["id"],
                                                                     "freeze_card": True})
    assert reported.status_code == 201 and reported.json()["card_frozen"]
    assert _card(client, alice)["freeze_reason"] == "card_compromised"
    try:
        for headers in (alice, _service_for(pg, "alice")):  # the customer, and the assistant for them
            refused = is_problem(client.post(f"/v1/cards/{card['id']}/unfreeze", headers=headers), 409,
                                 "card_blocked_after_report")
            assert "replace" in refused["detail"] and "support" in refused["detail"]
            # Freezing again changes nothing, and does not turn the block into an ordinary freeze.
            assert client.post(f"/v1/cards/{card['id']}/freeze", headers=headers).json()["freeze_reason"] == \
                "card_compromised"
        assert _card(client, alice)["status"] == "frozen"
        assert _audit_count(pg, "card.unfreeze", card["id"]) == 0
        assert pg.execute("SELECT freeze_reason FROM cards WHERE id = %s", (card["id"],)).fetchone()[0] == \
            "card_compromised"
    finally:
        _support_lifts_the_block(pg, card["id"])


def test_an_ordinary_freeze_turns_into_a_block_after_a_lost_card_report(client: TestClient, alice, pg) -> None:
    card = _card(client, alice)
    try:
        assert client.post(f"/v1/cards/{card['id']}/freeze", headers=alice).json()["freeze_reason"] == "customer"
        client.post("/v1/fraud-reports", headers=alice,
                    json={"kind": "lost_or_stolen_card", "card_id": card["id"], "freeze_card": True})
        assert _card(client, alice)["freeze_reason"] == "card_compromised"
        is_problem(client.post(f"/v1/cards/{card['id']}/unfreeze", headers=alice), 409, "card_blocked_after_report")
    finally:
        _support_lifts_the_block(pg, card["id"])


def test_freezes_of_other_reports_stay_reversible(client: TestClient, alice, pg) -> None:
    card = _card(client, alice)
    payment = client.get("/v1/transactions?category=coffee&limit=1", headers=alice).json()["items"][0]
    reported = client.post("/v1/fraud-reports", headers=alice, json={
        "kind": "card_payment_not_recognised", "card_id": card["id"], "transaction_id": payment["id"],
        "freeze_card": True})
    assert reported.status_code == 201 and reported.json()["card_frozen"]
    assert _card(client, alice)["freeze_reason"] == "fraud_report"
    unfrozen = client.post(f"/v1/cards/{card['id']}/unfreeze", headers=alice)
    assert unfrozen.status_code == 200 and unfrozen.json()["status"] == "active"
    assert unfrozen.json()["freeze_reason"] is None


def test_a_fraud_description_is_stored_redacted(client: TestClient, alice, pg) -> None:
    card = _card(client, alice)
    description = ("Someone paid with my card 4111 1111 1111 1111 at a shop. It may be Mary Martin, "
                   "she called me from +44 20 7946 0958 yesterday.")
    reported = client.post("/v1/fraud-reports", headers=alice, json={
        "kind": "card_payment_not_recognised", "card_id": card["id"], "description": description})
    assert reported.status_code == 201, reported.text
    stored = pg.execute("SELECT description FROM fraud_cases WHERE id = %s", (reported.json()["id"],)).fetchone()[0]
    assert stored and "Someone paid with my card" in stored
    for secret in ("4111", "1111 1111", "Mary", "Martin", "7946", "0958"):
        assert secret not in stored, stored
    assert "<CREDIT_CARD>" in stored or "CARD" in stored, stored


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
