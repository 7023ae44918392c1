"""/v1/accounts: balances are the ledger's, and only the owner's."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient


def _entries_sum(pg, account_id: str) -> int:
    return pg.execute("SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE account_id = %s",
                      (account_id,)).fetchone()[0]


def test_alice_sees_checking_and_savings_with_exact_balances(client: TestClient, alice, pg) -> None:
    response = client.get("/v1/accounts", headers=alice)
    assert response.status_code == 200
    accounts = response.json()
    assert {a["type"] for a in accounts} == {"checking", "savings"}
    for account in accounts:
        assert account["currency"] == "EUR"
        # The balance the API reports is the sum of the account's immutable ledger entries.
        assert Decimal(account["balance"]) == Decimal(_entries_sum(pg, account["id"])) / 100
        assert Decimal(account["balance"]) > 0


def test_bob_never_gets_alice_accounts(client: TestClient, alice, bob) -> None:
    alice_ids = {a["id"] for a in client.get("/v1/accounts", headers=alice).json()}
    bob_ids = {a["id"] for a in client.get("/v1/accounts", headers=bob).json()}
    assert alice_ids and bob_ids and not alice_ids & bob_ids


def test_staff_have_no_accounts_endpoint(client: TestClient) -> None:
    token = client.post("/v1/auth/token", data={"username": "agent", "password": "demo-password"})
    response = client.get("/v1/accounts", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


def test_no_token_is_401(client: TestClient) -> None:
    response = client.get("/v1/accounts")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
