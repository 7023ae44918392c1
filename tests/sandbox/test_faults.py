"""API faults as an httpx client sees them, with the effect performed or not as docs/providers.md says."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import SLOW_SECONDS, Receiver, effects

IBAN = "DE89370400440532013000"
BODY = {"amount_minor": 700, "currency": "EUR", "creditor": {"name": "Eve", "iban": IBAN}}
# kind -> (what the client sees: a status code or an exception type, effect performed?)
EXPECTED: dict[str, tuple[int | type[Exception], bool]] = {
    "connection_dropped": (httpx.RemoteProtocolError, False),
    "response_lost": (httpx.RemoteProtocolError, True),
    "error_500": (500, False),
    "error_500_after_effect": (500, True),
    "error_503": (503, False),
    "rate_limited": (429, False),
}


def post(client: httpx.Client, idem: str, fault: str | None = None, timeout: float = 10.0) -> httpx.Response:
    headers = {"Idempotency-Key": idem, **({"X-Sandbox-Fault": fault} if fault else {})}
    return client.post("/rails/v1/credit-transfers", headers=headers, json=BODY, timeout=timeout)


def outcome(client: httpx.Client, idem: str, fault: str | None = None) -> int | type[Exception]:
    try:
        return post(client, idem, fault).status_code
    except httpx.TransportError as exc:
        return type(exc)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_api_fault(sb: httpx.Client, kind: str) -> None:
    idem = f"fault-{kind}-{uuid.uuid4().hex[:8]}"
    seen, performed = EXPECTED[kind]
    got = outcome(sb, idem, kind)
    if isinstance(seen, type):
        assert isinstance(got, type) and issubclass(got, (httpx.RemoteProtocolError, httpx.ReadError)), got
    else:
        assert got == seen
    assert len(effects(sb, idempotency_key=idem)) == (1 if performed else 0)
    by_key = sb.get("/rails/v1/credit-transfers", params={"idempotency_key": idem})
    assert by_key.status_code == (200 if performed else 404)
    if kind == "rate_limited":
        assert sb.post("/rails/v1/credit-transfers", headers={"Idempotency-Key": idem, "X-Sandbox-Fault":
                                                              kind}, json=BODY).headers["Retry-After"] == "1"
    # The client's retry after the fault: the effect happens exactly once whatever the fault was.
    retry = post(sb, idem)
    assert retry.status_code == (200 if performed else 201)
    assert len(effects(sb, idempotency_key=idem)) == 1


def test_timeout_before_effect_never_performs_it(sb: httpx.Client) -> None:
    idem = f"timeout-{uuid.uuid4().hex[:8]}"
    with pytest.raises(httpx.ReadTimeout):
        post(sb, idem, "timeout_before_effect", timeout=SLOW_SECONDS / 2)
    # A patient client sees the connection closed, and still no effect after the sleep.
    started = time.monotonic()
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        post(sb, idem, "timeout_before_effect", timeout=SLOW_SECONDS * 5)
    assert time.monotonic() - started >= SLOW_SECONDS * 0.9
    assert effects(sb, idempotency_key=idem) == []
    assert sb.get("/rails/v1/credit-transfers", params={"idempotency_key": idem}).status_code == 404


def test_slow_success_and_truncated_body_perform_the_effect(sb: httpx.Client) -> None:
    idem = f"slow-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    answer = post(sb, idem, "slow_success")
    assert answer.status_code == 201 and time.monotonic() - started >= SLOW_SECONDS * 0.9
    assert len(effects(sb, idempotency_key=idem)) == 1

    idem = f"trunc-{uuid.uuid4().hex[:8]}"
    cut = post(sb, idem, "truncated_body")
    assert cut.status_code == 201
    with pytest.raises(ValueError):
        cut.json()
    whole = sb.get("/rails/v1/credit-transfers", params={"idempotency_key": idem})
    assert len(cut.content) == len(whole.content) // 2
    assert len(effects(sb, idempotency_key=idem)) == 1


def test_early_webhook_arrives_before_the_answer(sb: httpx.Client, receiver: Receiver) -> None:
    idem = f"early-{uuid.uuid4().hex[:8]}"
    answer = post(sb, idem, "slow_success,early")
    answered_at = time.monotonic()
    assert answer.status_code == 201 and answer.json()["status"] == "accepted"
    with receiver.lock:
        settled = [d for d in receiver.deliveries if d.event["data"]["id"] == answer.json()["id"]]
    assert settled and settled[0].event["type"] == "credit_transfer.settled" and settled[0].at < answered_at

    idem = f"early-lost-{uuid.uuid4().hex[:8]}"
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        post(sb, idem, "response_lost,early")
    transfer_id = effects(sb, idempotency_key=idem)[0]["id"]
    # Delivered before the connection was cut: already there, no waiting.
    assert any(e["data"]["id"] == transfer_id for e in receiver.events())


def fault_run(client: httpx.Client, seed: int, calls: int = 24) -> tuple[list[Any], list[Any]]:
    """Make calls under seeded rate faults; what the client saw, and the sandbox's own draw log."""
    assert client.post("/sandbox/faults", json={"rate": 0.5, "seed": seed, "kinds": [
        "connection_dropped", "error_500", "error_500_after_effect", "error_503", "rate_limited",
        "truncated_body", "response_lost"]}).status_code == 200
    seen = [outcome(client, f"seeded-{seed}-{n}-{uuid.uuid4().hex[:6]}") for n in range(calls)]
    draws = [d["kind"] for d in client.get("/sandbox/faults").json()["draws"] if d["target"] == "api"]
    assert client.delete("/sandbox/faults").status_code == 204
    return [s if isinstance(s, int) else "dropped" for s in seen], draws


def test_seeded_rate_replays_the_same_faults(sb: httpx.Client) -> None:
    first_seen, first_draws = fault_run(sb, 1234)
    second_seen, second_draws = fault_run(sb, 1234)
    assert first_draws == second_draws and first_seen == second_seen
    assert len(first_draws) == 24 and None in first_draws and len(set(first_draws)) >= 3
    _, other_draws = fault_run(sb, 99)
    assert other_draws != first_draws
    # No faults once cleared.
    assert post(sb, f"clean-{uuid.uuid4().hex[:6]}").status_code == 201


def test_fault_config_is_set_read_and_cleared(sb: httpx.Client) -> None:
    config = {"rate": 0.25, "seed": 7, "kinds": ["error_503"], "webhook_rate": 0.1, "webhook_kinds": ["duplicate"]}
    assert sb.post("/sandbox/faults", json=config).json() == config
    assert sb.get("/sandbox/faults").json()["config"] == config
    assert sb.delete("/sandbox/faults").status_code == 204
    assert sb.get("/sandbox/faults").json()["config"] is None
