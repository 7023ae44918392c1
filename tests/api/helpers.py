"""Small helpers for API tests."""

from __future__ import annotations

from decimal import Decimal

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
