"""A real core for the action tests, and the customers' conversations bound to it.

The stack (core, action server, Rasa) runs as in tests/e2e/conftest.py, on its own ports (28000, 25055,
25005), its own Redis dbs and a database created and seeded for this session. The actions themselves
run in this process: CORE_URL points them at this core, and each test's sender id is a conversation
the core bound to alice or bob when that customer posted a chat message, so the service token the
actions ask for acts for exactly that customer.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from actions_tests.support import GRANTS

try:
    import rasa_sdk  # noqa: F401 - the actions run in this process
except ImportError as exc:  # the core's .venv has no Rasa SDK
    raise pytest.UsageError('actions_tests run with the bot\'s interpreter: PYTHONPATH="$PWD:$PWD/bot" '
                            ".venv-bot/bin/python -m pytest actions_tests") from exc

ROOT = Path(__file__).resolve().parent.parent
CORE_PYTHON = str(ROOT / ".venv" / "bin" / "python")  # the core's interpreter (api/, data/, migrations)
MODEL = ROOT / "var" / "models" / "current.tar.gz"
PORT_OFFSET = int(os.environ.get("BANKBOT_TEST_PORT_OFFSET", "0"))  # a second run on this machine moves aside
STACK_NAME = f"actions-tests{PORT_OFFSET or ''}"
PORTS = {"core": 28000 + PORT_OFFSET, "rasa": 25005 + PORT_OFFSET, "actions": 25055 + PORT_OFFSET}
# This stack's own Redis db (rate limits, idempotency), emptied first; BANKBOT_TEST_REDIS moves it to another server.
REDIS_URL = os.environ.get("BANKBOT_TEST_REDIS", "redis://127.0.0.1:6379").rstrip("/") + "/7"
TRACKER_DB = 8  # Rasa's tracker and lock store for this stack
TRACKER_URL = f"{REDIS_URL.rsplit('/', 1)[0]}/{TRACKER_DB}"
MONEY_RATE_LIMIT = "1000/minute"  # the limit has its own API test; here it would only get in the way
CORE_URL = f"http://127.0.0.1:{PORTS['core']}"
CORE_INTERNAL_URL = f"http://127.0.0.1:{PORTS['core'] + 1}"  # scripts/stack.py: the internal listener is next door
PASSWORD = "demo-password"  # noqa: S105 - the documented demo credential (demo data only)


def _core_python(*args: str) -> str:
    result = subprocess.run([CORE_PYTHON, *args], cwd=ROOT, capture_output=True, text=True,  # noqa: S603
                            env={**os.environ, "PYTHONPATH": str(ROOT), "CHAT_RATE_LIMIT": "1000/minute"}, check=False)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _stack(command: str, database_url: str) -> None:
    _core_python("-m", "scripts.stack", command, "--name", STACK_NAME, "--core-port", str(PORTS["core"]),
                 "--rasa-port", str(PORTS["rasa"]), "--actions-port", str(PORTS["actions"]),
                 "--database-url", database_url, "--redis-url", REDIS_URL, "--redis-tracker-db", str(TRACKER_DB),
                 "--model", str(MODEL), "--core-workers", "2")


def latest_grant(conversation_id: str) -> str:
    """The grant on the conversation's latest customer message, from Rasa's tracker store."""
    stored = redis.Redis.from_url(TRACKER_URL).get(f"bankbot:tracker:{conversation_id}")
    assert stored is not None, f"Rasa has no tracker for {conversation_id}"
    user_events = [e for e in json.loads(stored)["events"] if e.get("event") == "user"]
    grant = ((user_events[-1].get("metadata") or {}) if user_events else {}).get("grant")
    assert isinstance(grant, str), "the core's grant did not reach Rasa's tracker"
    return grant


@dataclass
class Core:
    """The running core, seen as its customers (and staff) see it through the public API."""

    url: str
    database_url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, username: str) -> dict[str, str]:
        if username not in self.tokens:  # sign in once per user and session: login is rate limited
            response = httpx.post(f"{self.url}/v1/auth/token", data={"username": username, "password": PASSWORD},
                                  timeout=30)
            assert response.status_code == 200, response.text
            self.tokens[username] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def get(self, username: str, path: str, **params: Any) -> Any:
        response = httpx.get(f"{self.url}{path}", params=params, headers=self.headers(username), timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, username: str, path: str, body: Any = None) -> Any:
        response = httpx.post(f"{self.url}{path}", json=body, headers=self.headers(username), timeout=30)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def conversation(self, username: str) -> str:
        """A new conversation that the core binds to this customer: the customer says hello in the chat.

        The grant the core put on that message (what lets the actions act for the customer) is read
        from Rasa's tracker, as Rasa hands it to the action server, and given to every tracker built
        for this conversation (support.tracker)."""
        return self.message(username, None, "/greet")

    def message(self, username: str, conversation_id: str | None, text: str) -> str:
        """The customer sends `text`; the conversation's grant is then the one on this message."""
        body = {"text": text, **({"conversation_id": conversation_id} if conversation_id else {})}
        response = httpx.post(f"{self.url}/v1/chat/messages", json=body, headers=self.headers(username), timeout=60)
        assert response.status_code == 200, response.text
        conversation = response.json()["conversation_id"]
        GRANTS[conversation] = latest_grant(conversation)
        return conversation

    # --- read-backs used by many tests -------------------------------------------------------------
    def accounts(self, username: str) -> dict[str, dict[str, Any]]:
        """The customer's accounts by type (checking, savings)."""
        return {a["type"]: a for a in self.get(username, "/v1/accounts")}

    def card(self, username: str) -> dict[str, Any]:
        cards = self.get(username, "/v1/cards")
        assert len(cards) == 1, cards  # the demo customers have one card each
        return cards[0]

    def set_card(self, username: str, status: str) -> None:
        card = self.card(username)
        if card["status"] == status:
            return
        if status == "active" and card.get("freeze_reason") == "card_compromised":
            # Blocked after a lost-card report: no customer or assistant call lifts that, support does.
            _core_python("-m", "actions_tests.database", "lift-block", self.database_url, username)
            return
        self.post(username, f"/v1/cards/{card['id']}/{'freeze' if status == 'frozen' else 'unfreeze'}")

    def set_card_delivered(self, username: str, delivered: bool) -> None:
        """Posted three days ago, and delivered yesterday or not yet (no API: the carrier's side)."""
        _core_python("-m", "actions_tests.database", "delivered" if delivered else "in-post", self.database_url,
                     username)


@pytest.fixture(scope="session")
def core() -> Iterator[Core]:
    assert MODEL.exists(), f"no trained model at {MODEL}: run `make train` (make test does it first)"
    redis.Redis.from_url(REDIS_URL).flushdb()
    redis.Redis.from_url(TRACKER_URL).flushdb()
    database_url = _core_python("-m", "actions_tests.database", "create").strip().splitlines()[-1]
    previous = {name: os.environ.get(name) for name in ("CORE_URL", "CORE_INTERNAL_URL")}
    try:
        _stack("down", database_url)  # a stack left over by an interrupted run would serve an old database
        _stack("up", database_url)
        os.environ["CORE_URL"] = CORE_URL  # actions/settings.py reads them for every CoreClient
        os.environ["CORE_INTERNAL_URL"] = CORE_INTERNAL_URL
        yield Core(CORE_URL, database_url)
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        try:
            _stack("down", database_url)
        finally:
            _core_python("-m", "actions_tests.database", "drop", database_url)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "covers(*action_classes): the action classes a test exercises")


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The bot's domain (bot/domain/*.yml merged), as the action server receives it."""
    merged: dict[str, Any] = {"responses": {}, "slots": {}, "actions": [], "forms": {}}
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in ("responses", "slots", "forms"):
            merged[key].update(part.get(key) or {})
        merged["actions"] += part.get("actions") or []
    return merged


@pytest.fixture()
def alice(core: Core) -> str:
    """A fresh conversation of alice's (identity verified, checking and savings, card ending 4821)."""
    return core.conversation("alice")


@pytest.fixture()
def bob(core: Core) -> str:
    """A fresh conversation of bob's (identity verification pending: he cannot move money yet)."""
    return core.conversation("bob")


@pytest.fixture()
def alice_card_active(core: Core) -> Iterator[dict[str, Any]]:
    """Alice's card, active before the test and again after it (tests freeze it)."""
    core.set_card("alice", "active")
    yield core.card("alice")
    core.set_card("alice", "active")
