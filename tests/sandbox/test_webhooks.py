"""Webhooks: signed like api/webhooks/signing.py, at least once, and every webhook fault kind."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.sandbox.conftest import SLOW_SECONDS, Receiver, effects
from tests.sandbox_server import TEST_SECRETS, Sandbox

IBAN = "DE89370400440532013000"


def incoming(client: httpx.Client, fault: str | None = None, amount: int = 5000) -> dict[str, Any]:
    """Money arrives: a `credit_transfer.received` event, queued at once."""
    answer = client.post("/sandbox/rails/incoming", headers={"X-Sandbox-Fault": fault} if fault else {},
                         json={"amount_minor": amount, "currency": "EUR", "account_id": "acc-1",
                               "debtor_name": "Dan", "debtor_iban": IBAN, "reference": "gift"})
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def received(receiver: Receiver, object_id: str, *, verified: bool | None = True) -> list[dict[str, Any]]:
    return [e for e in receiver.events(verified=verified) if e["data"]["id"] == object_id]


def attempts(client: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    answer = client.get("/sandbox/webhooks", params=filters)
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


def wait_attempts(client: httpx.Client, predicate: Callable[[list[dict[str, Any]]], bool],
                  timeout: float = 10.0) -> list[dict[str, Any]]:
    """Poll the sandbox's delivery log (written just after the receiver answers) until `predicate` holds."""
    deadline = time.monotonic() + timeout
    while True:
        log = attempts(client)
        if predicate(log):
            return log
        assert time.monotonic() < deadline, f"delivery log condition not met: {log}"
        time.sleep(0.05)


def test_incoming_event_is_signed_for_the_core(sb: httpx.Client, receiver: Receiver) -> None:
    obj = incoming(sb)
    event = receiver.wait_for_type("credit_transfer.received", obj["id"])
    assert event["event_id"].startswith("evt_") and event["created_at"].endswith("Z")
    assert event["data"] == {"id": obj["id"], "amount_minor": 5000, "currency": "EUR",
                             "creditor": {"account_id": "acc-1"}, "debtor": {"name": "Dan", "iban": IBAN},
                             "reference": "gift"}
    with receiver.lock:
        delivery = next(d for d in receiver.deliveries if d.event["event_id"] == event["event_id"])
    # The receiver checked it with api.webhooks.signing.verify; check the wire form as well.
    assert delivery.verified and delivery.headers["X-Signature"].startswith("sha256=")
    assert delivery.headers["X-Timestamp"].isdigit()
    assert TEST_SECRETS["RAILS_WEBHOOK_SECRET"]
    log = wait_attempts(sb, lambda log: len(log) == 1)
    assert [(a["event_id"], a["status_code"], a["signature"]) for a in log] == [(event["event_id"], 200, "good")]
    assert [e["kind"] for e in effects(sb, provider="rails")] == ["incoming_transfer"]


def test_retries_with_backoff_until_2xx(sb: httpx.Client, receiver: Receiver) -> None:
    receiver.fail_with = 500
    obj = incoming(sb)
    receiver.wait_for(lambda _: len([a for a in attempts(sb) if a["status_code"] == 500]) >= 2, verified=None)
    receiver.fail_with = None
    receiver.wait_for_type("credit_transfer.received", obj["id"])
    log = wait_attempts(sb, lambda log: log[-1]["status_code"] == 200)
    assert [a["attempt"] for a in log] == list(range(1, len(log) + 1))
    assert log[-1]["status_code"] == 200 and all(a["status_code"] == 500 for a in log[:-1])


def test_duplicate_sends_the_same_event_twice(sb: httpx.Client, receiver: Receiver) -> None:
    obj = incoming(sb, "duplicate")
    events = receiver.wait_for(lambda es: len([e for e in es if e["data"]["id"] == obj["id"]]) == 2)
    same = [e for e in events if e["data"]["id"] == obj["id"]]
    assert same[0] == same[1]


def test_never_is_not_delivered_but_logged(sb: httpx.Client, receiver: Receiver) -> None:
    hidden = incoming(sb, "never")
    shown = incoming(sb)
    receiver.wait_for_type("credit_transfer.received", shown["id"])
    sb.post("/sandbox/clock/advance", json={"seconds": 3600})
    assert received(receiver, hidden["id"], verified=None) == []
    log = [a for a in attempts(sb) if a["object_id"] == hidden["id"]]
    assert [(a["attempt"], a["fault"], a["status_code"]) for a in log] == [(0, "never", None)]


def test_bad_signature_then_a_good_one(sb: httpx.Client, receiver: Receiver) -> None:
    obj = incoming(sb, "bad_signature")
    receiver.wait_for_type("credit_transfer.received", obj["id"])
    bad = received(receiver, obj["id"], verified=False)
    good = received(receiver, obj["id"], verified=True)
    assert len(bad) == 1 and len(good) == 1 and bad[0] == good[0]
    log = [(a["signature"], a["status_code"]) for a in wait_attempts(sb, lambda log: len(log) == 2)]
    assert log == [("bad", 401), ("good", 200)]


def test_out_of_order_is_sent_after_the_next_event(sb: httpx.Client, receiver: Receiver) -> None:
    held = incoming(sb, "out_of_order", amount=1)
    assert received(receiver, held["id"]) == []
    later = incoming(sb, amount=2)
    events = receiver.wait_for(lambda es: len(es) == 2)
    assert [e["data"]["id"] for e in events] == [later["id"], held["id"]]


def test_late_comes_slow_seconds_later(sb: httpx.Client, receiver: Receiver) -> None:
    started = time.monotonic()
    obj = incoming(sb, "late")
    receiver.wait_for_type("credit_transfer.received", obj["id"], timeout=SLOW_SECONDS * 5)
    assert time.monotonic() - started >= SLOW_SECONDS * 0.9
    log = wait_attempts(sb, lambda log: len(log) == 1)
    assert log[0]["fault"] == "late" and log[0]["object_id"] == obj["id"]


def test_unknown_object_adds_an_event_about_nothing(sb: httpx.Client, receiver: Receiver) -> None:
    obj = incoming(sb, "unknown_object")
    events = receiver.wait_for(lambda es: len(es) == 2)
    ids = {e["data"]["id"] for e in events}
    assert obj["id"] in ids
    ghost = (ids - {obj["id"]}).pop()
    assert ghost.startswith("in_") and ghost not in {e["id"] for e in effects(sb)}
    assert len({e["event_id"] for e in events}) == 2


def test_webhook_faults_from_the_header_follow_the_object(sb: httpx.Client, receiver: Receiver) -> None:
    answer = sb.post("/rails/v1/credit-transfers",
                     headers={"Idempotency-Key": f"k-{uuid.uuid4().hex}", "X-Sandbox-Fault": "duplicate"},
                     json={"amount_minor": 900, "currency": "EUR", "creditor": {"name": "Eve", "iban": IBAN}})
    transfer_id = answer.json()["id"]
    events = receiver.wait_for(lambda es: len([e for e in es if e["data"]["id"] == transfer_id]) == 2)
    assert {e["type"] for e in events} == {"credit_transfer.settled"}


def test_webhook_rate_faults_are_seeded(sb: httpx.Client, receiver: Receiver, sandbox: Sandbox) -> None:
    def run() -> list[str | None]:
        sb.post("/sandbox/faults", json={"rate": 0, "seed": 5, "webhook_rate": 0.5,
                                         "webhook_kinds": ["duplicate", "never", "late"]})
        for n in range(10):
            incoming(sb, amount=100 + n)
        draws = [d["kind"] for d in sb.get("/sandbox/faults").json()["draws"] if d["target"] == "webhook"]
        sb.delete("/sandbox/faults")
        return draws

    first = run()
    assert run() == first and len(first) == 10 and None in first
