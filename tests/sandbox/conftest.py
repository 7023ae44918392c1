"""One sandbox subprocess per session, a webhook receiver thread, and a clean slate per test."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from api.config import get_settings
from api.problems import Problem
from api.webhooks.signing import verify
from tests.sandbox_server import TEST_SECRETS, Sandbox, running_sandbox

PORT_OFFSET = int(os.environ.get("BANKBOT_TEST_PORT_OFFSET") or 0)
SANDBOX_PORT = 22100 + PORT_OFFSET  # below the ephemeral range (32768+): never taken by a client socket
RECEIVER_PORT = 22150 + PORT_OFFSET
SLOW_SECONDS = 1.0
SETTLE_SECONDS = 0.3


@dataclass
class Delivery:
    """One webhook POST the receiver got."""

    provider: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int
    at: float

    @property
    def event(self) -> dict[str, Any]:
        """The parsed event."""
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class Receiver:
    """Stands in for the core's webhook endpoint: verifies signatures like it, answers 401 when they fail."""

    deliveries: list[Delivery] = field(default_factory=list)
    fail_with: int | None = None  # answer this status to every delivery (e.g. 500) while set
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        """Forget what was received."""
        with self.lock:
            self.deliveries.clear()
            self.fail_with = None

    def events(self, *, verified: bool | None = True) -> list[dict[str, Any]]:
        """Events received so far (by default only the correctly signed ones), in arrival order."""
        with self.lock:
            return [d.event for d in self.deliveries if verified is None or d.verified == verified]

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0,
                 *, verified: bool | None = True) -> list[dict[str, Any]]:
        """Poll until the received events satisfy `predicate`, or fail at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.events(verified=verified)
            if predicate(events):
                return events
            if time.monotonic() > deadline:
                raise AssertionError(f"webhook condition not met within {timeout}s; got {events}")
            time.sleep(0.05)

    def wait_for_type(self, event_type: str, object_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The first verified event of a type about an object."""
        events = self.wait_for(lambda es: any(_about(e, event_type, object_id) for e in es), timeout)
        return next(e for e in events if _about(e, event_type, object_id))


def _about(event: dict[str, Any], event_type: str, object_id: str) -> bool:
    return bool(event["type"] == event_type and event["data"].get("id") == object_id)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            provider = self.path.rstrip("/").rsplit("/", 1)[-1]
            secret = TEST_SECRETS.get(f"{provider.upper()}_WEBHOOK_SECRET", "")
            try:
                verify(secret, 300, self.headers.get("X-Timestamp"), self.headers.get("X-Signature"), body)
                verified = True
            except Problem:
                verified = False
            status = receiver.fail_with or (200 if verified else 401)
            with receiver.lock:
                receiver.deliveries.append(Delivery(provider, dict(self.headers.items()), body, verified, status,
                                                    time.monotonic()))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    """The webhook receiver, on its own thread."""
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", RECEIVER_PORT), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def sandbox(receiver: Receiver) -> Iterator[Sandbox]:
    """The sandbox subprocess, on a throwaway database."""
    env = {"SANDBOX_SLOW_SECONDS": str(SLOW_SECONDS), "SANDBOX_SETTLE_SECONDS": str(SETTLE_SECONDS),
           "SANDBOX_WEBHOOK_BACKOFF_SECONDS": "0.2"}
    with running_sandbox(port=SANDBOX_PORT, database_url=get_settings().database_url,
                         webhook_base_url=f"http://127.0.0.1:{RECEIVER_PORT}", env=env) as running:
        yield running


@pytest.fixture()
def sb(sandbox: Sandbox, receiver: Receiver) -> Iterator[httpx.Client]:
    """A client of a freshly reset sandbox (and an empty receiver)."""
    with httpx.Client(base_url=sandbox, headers=sandbox.headers, timeout=10.0) as client:
        assert client.post("/sandbox/reset").status_code == 204
        receiver.clear()
        yield client


def effects(client: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    """GET /sandbox/effects."""
    answer = client.get("/sandbox/effects", params=filters)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def wait_status(client: httpx.Client, path: str, status: str, timeout: float = 10.0) -> dict[str, Any]:
    """Poll GET `path` until the object has `status`."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(path).json()
        if body.get("status") == status:
            return body  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} still {body.get('status')!r}, expected {status!r}")
        time.sleep(0.05)
