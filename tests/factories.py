"""Demo people loaded into a test database through the real seeding code."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from api.auth.security import hash_password
from data.seed import DEMO_PASSWORD, DEMO_PEOPLE, load_person


def seed_demo(database_url: str) -> None:
    password_hash = hash_password(DEMO_PASSWORD)
    today = datetime.now(UTC).date()
    with psycopg.connect(database_url) as conn:
        for person in DEMO_PEOPLE:
            load_person(conn, person, password_hash, today)
