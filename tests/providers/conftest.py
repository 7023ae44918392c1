"""The real sandbox as a subprocess (tests/sandbox_server.py), and clients of it with a test-only fault hook.

Faults are injected the way a test of a real integration would: the `X-Sandbox-Fault` header on chosen
requests, added by an httpx event hook built here; production signatures know nothing of it.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from api.config import Settings, get_settings
from api.providers import http_for
from api.providers.cards import CardProcessorClient
from api.providers.crypto import CryptoGatewayClient
from api.providers.kyc import KycClient
from api.providers.rails import RailsClient
from tests.sandbox_server import running_sandbox

PORT = 23100 + int(os.environ.get("BANKBOT_TEST_PORT_OFFSET") or 0)
API_KEY = "sbx-" + secrets.token_urlsafe(32)
CLIENT_TIMEOUT_SECONDS = 0.5  # below SANDBOX_SLOW_SECONDS, so slow faults are timeouts to the client
SLOW_SECONDS = 1
MAX_ATTEMPTS = 4
# Nothing listens here: webhooks are not what these tests are about, and a refused delivery is only retried.
WEBHOOK_BASE_URL = "http://127.0.0.1:9"


@dataclass
class Faults:
    """Test-only request hook: puts `X-Sandbox-Fault` on the next requests matching a method, in order."""

    queue: list[tuple[str, str]] = field(default_factory=list)  # (method or "*", kind)
    always: dict[str, str] = field(default_factory=dict)  # method -> kind, on every such request
    sent: list[tuple[str, str, str | None]] = field(default_factory=list)  # (method, path, fault)

    def arm(self, kind: str, *, method: str = "POST") -> Faults:
        self.queue.append((method, kind))
        return self

    def hook(self, request: httpx.Request) -> None:
        kind = self.always.get(request.method)
        if kind is None:
            for i, (method, queued) in enumerate(self.queue):
                if method in (request.method, "*"):
                    kind = queued
                    del self.queue[i]
                    break
        if kind is not None:
            request.headers["X-Sandbox-Fault"] = kind
        self.sent.append((request.method, request.url.path, kind))

    def posts(self) -> int:
        return sum(1 for method, _, _ in self.sent if method == "POST")


@pytest.fixture(scope="session")
def sandbox_url() -> Iterator[str]:
    """Base URL of a sandbox subprocess for this session, on a throwaway database of the core's server."""
    env = {"PROVIDER_API_KEY": API_KEY, "SANDBOX_SLOW_SECONDS": str(SLOW_SECONDS)}
    with running_sandbox(port=PORT, database_url=get_settings().database_url, webhook_base_url=WEBHOOK_BASE_URL,
                         env=env) as url:
        yield url.rstrip("/")


@pytest.fixture(scope="session")
def admin(sandbox_url: str) -> Iterator[httpx.Client]:
    """A plain client of the sandbox's administration API (effects, clock)."""
    with httpx.Client(base_url=sandbox_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10) as client:
        yield client


def effects(admin: httpx.Client, *, provider: str, idempotency_key: str) -> list[dict[str, Any]]:
    """What the sandbox durably did for this key."""
    response = admin.get("/sandbox/effects", params={"provider": provider, "idempotency_key": idempotency_key})
    response.raise_for_status()
    return response.json()


def advance(admin: httpx.Client, seconds: float) -> None:
    admin.post("/sandbox/clock/advance", json={"seconds": seconds}).raise_for_status()


def key(prefix: str = "test") -> str:
    return f"{prefix}:{uuid.uuid4().hex}"


def settings_for(sandbox_url: str, *, api_key: str = API_KEY, max_attempts: int = MAX_ATTEMPTS) -> Settings:
    return Settings(provider_api_key=api_key, rails_api_url=f"{sandbox_url}/rails",
                    cards_api_url=f"{sandbox_url}/cards", crypto_api_url=f"{sandbox_url}/crypto",
                    kyc_api_url=f"{sandbox_url}/kyc", provider_timeout_seconds=CLIENT_TIMEOUT_SECONDS,
                    provider_max_attempts=max_attempts)


@dataclass
class Clients:
    """The four clients of one test, sharing one fault hook."""

    faults: Faults
    rails: RailsClient
    cards: CardProcessorClient
    crypto: CryptoGatewayClient
    kyc: KycClient

    def close(self) -> None:
        for client in (self.rails, self.cards, self.crypto, self.kyc):
            client.close()


def make_clients(settings: Settings, faults: Faults | None = None) -> Clients:
    faults = faults or Faults()
    # Short backoff: the policy is under test, not the patience of the test run.
    options: dict[str, Any] = {"event_hooks": {"request": [faults.hook]}, "backoff_initial": 0.05,
                               "backoff_max": 0.2}
    return Clients(faults=faults, rails=RailsClient(http_for("rails", settings, **options)),
                   cards=CardProcessorClient(http_for("cards", settings, **options)),
                   crypto=CryptoGatewayClient(http_for("crypto", settings, **options)),
                   kyc=KycClient(http_for("kyc", settings, **options)))


@pytest.fixture()
def clients(sandbox_url: str) -> Iterator[Clients]:
    built = make_clients(settings_for(sandbox_url))
    yield built
    built.close()


@pytest.fixture()
def client_factory(sandbox_url: str) -> Iterator[Callable[..., Clients]]:
    """Clients with other settings (a wrong key, fewer attempts)."""
    made: list[Clients] = []

    def build(**overrides: Any) -> Clients:
        made.append(make_clients(settings_for(sandbox_url, **overrides)))
        return made[-1]

    yield build
    for built in made:
        built.close()
