"""The core in process (TestClient) on the seeded test database, with the channels' secrets set and their
outbound APIs pointed at a real sandbox subprocess (tests/sandbox_server.py), whose records are read over HTTP.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from tests.conftest import TEST_REDIS_URL
from tests.sandbox_server import Sandbox, running_sandbox

PORT_OFFSET = int(os.environ.get("BANKBOT_TEST_PORT_OFFSET") or 0)
SANDBOX_PORT = 26100 + PORT_OFFSET  # below the ephemeral range; no other suite uses it
PUBLIC_BASE_URL = "https://bank.example"  # what Twilio signs; the TestClient's Host header is "testserver"
CHANNEL_SECRETS = {
    "TELEGRAM_WEBHOOK_SECRET": "test-telegram-webhook-secret-0123456789",
    "SLACK_SIGNING_SECRET": "test-slack-signing-secret-0123456789ab",
    "TWILIO_AUTH_TOKEN": "test-twilio-auth-token-0123456789abcd",
    "TELEGRAM_BOT_TOKEN": "123456:test-telegram-bot-token-0123456789",
    "SLACK_BOT_TOKEN": "xoxb-test-slack-bot-token-0123456789abcdef",
}


@dataclass(frozen=True)
class Channels:
    client: TestClient
    sandbox: Sandbox
    database_url: str

    def sent(self, channel: str, to: str) -> list[dict[str, Any]]:
        """What the core asked the channel's API to send to `to`, oldest first (the sandbox's record)."""
        response = httpx.get(f"{self.sandbox}/sandbox/{channel}/sent", params={"to": to}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def wait_sent(self, channel: str, to: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        """At least `count` records for `to`, polled until a deadline."""
        deadline = time.monotonic() + timeout
        while True:
            sent = self.sent(channel, to)
            if len(sent) >= count or time.monotonic() > deadline:
                return sent
            time.sleep(0.1)


# Package scope: the sandbox and its connections go when these tests are done (PostgreSQL's connections are
# shared by every stack of a `make test` run).
@pytest.fixture(scope="package")
def channel_sandbox(database_url: str) -> Iterator[Sandbox]:
    with running_sandbox(port=SANDBOX_PORT, database_url=database_url, webhook_base_url="http://127.0.0.1:9",
                         env=CHANNEL_SECRETS) as sandbox:
        yield sandbox


@pytest.fixture(scope="package")
def channels(seeded_database_url: str, channel_sandbox: Sandbox) -> Iterator[Channels]:
    """The core with channel settings (its own app: the settings are read when it is made)."""
    mp = pytest.MonkeyPatch()
    for name, value in {**CHANNEL_SECRETS, "DATABASE_URL": seeded_database_url, "REDIS_URL": TEST_REDIS_URL,
                        "RASA_URL": "http://127.0.0.1:9", "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
                        "TELEGRAM_API_URL": f"{channel_sandbox}/telegram",
                        "SLACK_API_URL": f"{channel_sandbox}/slack/api",
                        "TWILIO_API_URL": f"{channel_sandbox}/twilio", "CHANNEL_MAX_ATTEMPTS": "1"}.items():
        mp.setenv(name, value)
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    from api.config import get_settings

    get_settings.cache_clear()
    from api.main import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield Channels(client=client, sandbox=channel_sandbox, database_url=seeded_database_url)
    get_settings.cache_clear()
    mp.undo()


@pytest.fixture()
def unique() -> Callable[[], int]:
    """Fresh ids for chats, updates and numbers, so tests never see each other's records."""
    counter = iter(range(1, 10**6))
    base = time.time_ns() % 10**9 * 1000

    def next_id() -> int:
        return base + next(counter)

    return next_id
