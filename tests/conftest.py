"""Shared fixtures: a throwaway, migrated and seeded PostgreSQL database per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

from tests.dbutil import temporary_database
from tests.factories import seed_demo

# Tests own db 3 of this Redis and empty it at the start. BANKBOT_TEST_REDIS points a second checkout's
# (or a second developer's) run at another Redis server, so two runs on one machine never share counters.
TEST_REDIS_BASE = os.environ.get("BANKBOT_TEST_REDIS", "redis://127.0.0.1:6379").rstrip("/")
TEST_REDIS_URL = f"{TEST_REDIS_BASE}/3"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A migrated database for this test session (dropped afterwards); never `bankbot`."""
    with temporary_database() as url:
        yield url


@pytest.fixture(scope="session")
def seeded_database_url(database_url: str) -> str:
    seed_demo(database_url)
    return database_url


@pytest.fixture()
def pg(database_url: str) -> Iterator[psycopg.Connection]:
    """A plain psycopg connection to the test database (autocommit)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def client(seeded_database_url: str) -> Iterator[TestClient]:
    """The core application, in process, against the seeded test database and the real Redis."""
    mp = pytest.MonkeyPatch()
    mp.setenv("DATABASE_URL", seeded_database_url)
    mp.setenv("REDIS_URL", TEST_REDIS_URL)
    mp.setenv("MONEY_RATE_LIMIT", "10000/minute")  # the limit itself has its own test
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    mp.setenv("RASA_URL", "http://127.0.0.1:9")  # no Rasa in-process: chat tests use the e2e stack
    from api.config import get_settings

    get_settings.cache_clear()
    from api.main import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client
    get_settings.cache_clear()
    mp.undo()


def login(client: TestClient, username: str, password: str = "demo-password") -> dict[str, str]:
    response = client.post("/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="session")
def alice(client: TestClient) -> dict[str, str]:
    return login(client, "alice")


@pytest.fixture(scope="session")
def bob(client: TestClient) -> dict[str, str]:
    return login(client, "bob")


@pytest.fixture(scope="session")
def api_schema(client: TestClient):
    """The core's OpenAPI schema for schemathesis, bound to the in-process app on the test database."""
    import schemathesis

    return schemathesis.openapi.from_asgi("/openapi.json", client.app)


@pytest.fixture(scope="module")
def pg_module(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn
