"""SIGKILL and restart: idempotency, the clock, pending settlements, returns and webhooks all continue."""

from __future__ import annotations

import uuid

import httpx

from tests.sandbox.conftest import Receiver, wait_status
from tests.sandbox_server import Sandbox, kill_sandbox, restart_sandbox

IBAN = "DE89370400440532013000"


def test_survives_sigkill_and_restart(sb: httpx.Client, receiver: Receiver, sandbox: Sandbox) -> None:
    body = {"amount_minor": 3066, "currency": "EUR", "creditor": {"name": "Eve", "iban": IBAN}}
    idem = f"restart-{uuid.uuid4().hex[:8]}"
    receiver.fail_with = 500  # every webhook stays pending, retried with backoff
    transfer = sb.post("/rails/v1/credit-transfers", headers={"Idempotency-Key": idem}, json=body).json()
    wait_status(sb, f"/rails/v1/credit-transfers/{transfer['id']}", "settled")
    receiver.wait_for(lambda es: len(es) >= 1, verified=None)
    sb.post("/sandbox/clock/advance", json={"seconds": 60})
    offset = sb.get("/sandbox/clock").json()["offset_seconds"]
    # A second transfer whose settlement is still a job when the process dies.
    pending = sb.post("/rails/v1/credit-transfers", headers={"Idempotency-Key": idem + "-2"},
                      json={**body, "amount_minor": 3000}).json()

    kill_sandbox(sandbox)
    receiver.fail_with = None
    restart_sandbox(sandbox)

    assert sb.get("/sandbox/clock").json()["offset_seconds"] == offset
    again = sb.post("/rails/v1/credit-transfers", headers={"Idempotency-Key": idem}, json=body)
    assert again.status_code == 200 and again.json()["id"] == transfer["id"]
    assert sb.post("/rails/v1/credit-transfers", headers={"Idempotency-Key": idem},
                   json={**body, "amount_minor": 1}).status_code == 422
    receiver.wait_for_type("credit_transfer.settled", transfer["id"])
    receiver.wait_for_type("credit_transfer.settled", pending["id"])
    sb.post("/sandbox/clock/advance", json={"seconds": 3 * 24 * 3600})
    returned = receiver.wait_for_type("credit_transfer.returned", transfer["id"])
    assert returned["data"]["reason_code"] == "R01"
