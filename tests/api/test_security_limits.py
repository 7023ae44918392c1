"""Abuse limits: chat messages per customer (rate and in flight), login failures per user, per IP and in
all, and the per-process cap on concurrent password hashes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from api import ratelimit
from api.auth import security
from api.chat.views import CHAT_SCOPE
from api.config import get_settings
from api.deps import settings_dependency
from api.problems import Problem
from api.redis_client import redis_for
from data.seed import stable_id
from tests.api.helpers import is_problem
from tests.conftest import TEST_REDIS_URL

ALICE = str(stable_id("user", "alice"))
NOWHERE = "redis://127.0.0.1:9/0"  # nothing listens there


@pytest.fixture()
def limits(client: TestClient) -> Iterator[Callable[..., None]]:
    """Run the app with some settings changed (this test's own limits: their Redis keys are its own too)."""

    def set_limits(**changes) -> None:
        changed = get_settings().model_copy(update=changes)

        async def settings_override():
            return changed

        client.app.dependency_overrides[settings_dependency] = settings_override

    yield set_limits
    client.app.dependency_overrides.pop(settings_dependency, None)


def _from(client: TestClient, ip: str) -> TestClient:
    """The same app, called from another client address."""
    return TestClient(client.app, client=(ip, 40000), raise_server_exceptions=False)


def _is_429(response, code: str = "rate_limited") -> None:
    is_problem(response, 429, code)
    assert int(response.headers["Retry-After"]) >= 1


def _chat(client: TestClient, headers, text: str = "hello"):
    return client.post("/v1/chat/messages", headers=headers, json={"text": text})


# --- chat ---------------------------------------------------------------------------------------------

def test_chat_is_rate_limited_per_customer(client: TestClient, alice, bob, limits) -> None:
    limits(chat_rate_limit="3/minute")
    # No Rasa in process: each message the limits let through ends as a 5xx problem, never a 429.
    assert [_chat(client, alice).status_code >= 500 for _ in range(3)] == [True] * 3
    _is_429(_chat(client, alice))
    assert _chat(client, bob).status_code != 429  # another customer has a window of their own


def test_chat_messages_in_flight_per_customer_across_workers(client: TestClient, alice, bob) -> None:
    settings = get_settings()
    held = [ratelimit.acquire_slot(settings.redis_url, scope=CHAT_SCOPE, key=ALICE, limit=settings.chat_max_in_flight,
                                   ttl_seconds=30, fail_open=False) for _ in range(settings.chat_max_in_flight)]
    slots = redis_for(TEST_REDIS_URL)
    key = f"{ratelimit.NAMESPACE}:in_flight:{CHAT_SCOPE}:{ALICE}"
    try:
        # Another worker holds alice's slots (messages still with Rasa): one more is refused at once.
        _is_429(_chat(client, alice), "too_many_in_flight")
        assert _chat(client, bob).status_code != 429
        ratelimit.release_slot(settings.redis_url, scope=CHAT_SCOPE, key=ALICE, token=held.pop())
        assert _chat(client, alice).status_code >= 500  # let through; Rasa is not there
        assert slots.zcard(key) == len(held)  # ... and its slot was given back although it failed
    finally:
        for token in held:
            ratelimit.release_slot(settings.redis_url, scope=CHAT_SCOPE, key=ALICE, token=token)
    assert slots.zcard(key) == 0


def test_a_slot_of_a_crashed_worker_expires() -> None:
    url, key = get_settings().redis_url, f"crash-{uuid.uuid4()}"
    assert ratelimit.acquire_slot(url, scope="test", key=key, limit=1, ttl_seconds=0.3, fail_open=False)
    with pytest.raises(Problem) as refused:
        ratelimit.acquire_slot(url, scope="test", key=key, limit=1, ttl_seconds=0.3, fail_open=False)
    assert refused.value.status == 429 and refused.value.headers == {"Retry-After": "1"}
    time.sleep(0.4)  # never released: its worker died
    assert ratelimit.acquire_slot(url, scope="test", key=key, limit=1, ttl_seconds=0.3, fail_open=False)


def test_chat_limits_fail_open_without_redis() -> None:
    """No Redis, no counting: the message goes on (chat moves no money; api/ratelimit.py says why)."""
    ratelimit.hit(NOWHERE, "1/minute", CHAT_SCOPE, ALICE, fail_open=True)
    with ratelimit.in_flight(NOWHERE, scope=CHAT_SCOPE, key=ALICE, limit=1, ttl_seconds=5, fail_open=True), \
            ratelimit.in_flight(NOWHERE, scope=CHAT_SCOPE, key=ALICE, limit=1, ttl_seconds=5, fail_open=True):
        pass  # two at once although the limit is 1: nothing counts them
    with pytest.raises(Problem) as closed:
        ratelimit.acquire_slot(NOWHERE, scope=CHAT_SCOPE, key=ALICE, limit=1, ttl_seconds=5, fail_open=False)
    assert closed.value.status == 503


# --- login --------------------------------------------------------------------------------------------

def _login(client: TestClient, username: str, password: str = "wrong-password"):
    return client.post("/v1/auth/token", data={"username": username, "password": password})


def test_failed_logins_are_limited_per_user_across_ips(client: TestClient, limits) -> None:
    limits(login_user_rate_limit="3/minute")
    victim = f"victim-{uuid.uuid4().hex[:8]}"  # unknown users are counted like known ones
    for n in range(3):
        is_problem(_login(_from(client, f"198.51.100.{n}"), victim), 401, "invalid_credentials")
    _is_429(_login(_from(client, "198.51.100.99"), victim))  # a new IP does not help
    assert _login(_from(client, "198.51.100.99"), "someone-else").status_code == 401


def test_a_known_user_is_protected_even_from_the_right_password(client: TestClient, pg, limits) -> None:
    limits(login_user_rate_limit="2/minute")
    username = f"sprayed-{uuid.uuid4().hex[:8]}"
    pg.execute("INSERT INTO users (id, username, password_hash, full_name, roles, kyc_status) "
               "VALUES (%s, %s, %s, 'Sprayed User', ARRAY['customer'], 'verified')",
               (uuid.uuid4(), username, security.hash_password("demo-password")))
    assert _login(_from(client, "198.51.100.10"), username, "demo-password").status_code == 200
    assert _login(_from(client, "198.51.100.11"), username, "demo-password").status_code == 200
    assert _login(_from(client, "198.51.100.12"), username, "demo-password").status_code == 200  # no failures
    for n in range(2):
        is_problem(_login(_from(client, f"198.51.100.{20 + n}"), username), 401)
    _is_429(_login(_from(client, "198.51.100.30"), username, "demo-password"))


def test_failed_logins_are_limited_per_ip_across_users(client: TestClient, limits) -> None:
    limits(login_ip_rate_limit="3/minute")
    sprayer = _from(client, "203.0.113.7")
    for n in range(3):
        is_problem(_login(sprayer, f"user-{uuid.uuid4().hex[:8]}-{n}"), 401)
    _is_429(_login(sprayer, f"user-{uuid.uuid4().hex[:8]}"))
    assert _login(_from(client, "203.0.113.8"), f"user-{uuid.uuid4().hex[:8]}").status_code == 401


def test_failed_logins_are_limited_in_all(client: TestClient, limits) -> None:
    limits(login_global_rate_limit="4/minute")
    for n in range(4):
        is_problem(_login(_from(client, f"192.0.2.{n}"), f"user-{uuid.uuid4().hex[:8]}"), 401)
    _is_429(_login(_from(client, "192.0.2.200"), f"user-{uuid.uuid4().hex[:8]}"))


def test_login_limits_fail_open_without_redis(client: TestClient, limits) -> None:
    limits(redis_url=NOWHERE)
    assert _login(_from(client, "192.0.2.250"), "alice", "demo-password").status_code == 200
    is_problem(_login(_from(client, "192.0.2.250"), "alice"), 401)


def test_password_hashes_at_once_are_capped(client: TestClient) -> None:
    """With every hash slot of this process taken, a login waits briefly, then gets 503 with Retry-After:
    for a known user and an unknown one alike (both hash)."""
    slots, taken = security.hash_slots(), 0
    try:
        while slots.acquire(blocking=False):
            taken += 1
        assert taken == get_settings().login_hash_concurrency
        for username in ("alice", f"nobody-{uuid.uuid4().hex[:8]}"):
            started = time.monotonic()
            busy = _login(_from(client, "192.0.2.251"), username, "demo-password")
            is_problem(busy, 503, "login_busy")
            assert busy.headers["Retry-After"] == "1"
            assert time.monotonic() - started >= get_settings().login_hash_wait_seconds
    finally:
        for _ in range(taken):
            slots.release()
    assert _login(_from(client, "192.0.2.251"), "alice", "demo-password").status_code == 200
