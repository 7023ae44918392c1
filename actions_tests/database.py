"""The action tests' database: created, migrated and seeded with the demo people, then dropped.

Runs with the core's interpreter (it needs api/, ledger/ and data/), as a subprocess of the tests:

    .venv/bin/python -m actions_tests.database create      # prints the new database's URL
    .venv/bin/python -m actions_tests.database drop URL
    .venv/bin/python -m actions_tests.database lift-block URL USERNAME   # what support does after a review
    .venv/bin/python -m actions_tests.database in-post URL USERNAME      # the card was posted, not delivered
    .venv/bin/python -m actions_tests.database delivered URL USERNAME    # and back
"""

from __future__ import annotations

import argparse
import uuid
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from api.config import get_settings
from api.dbadmin import migrate, with_database
from tests.factories import seed_demo

PREFIX = "bankbot_actions"


def create() -> str:
    base = get_settings().database_url
    name = f"{PREFIX}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(with_database(base, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(base, name)
    migrate(url)
    seed_demo(url)  # the real seeding code: alice, bob, agent, compliance
    return url


def drop(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    assert name.startswith(f"{PREFIX}_"), f"refusing to drop {name!r}: not an action tests database"
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        # The stack's provider sandbox had a database of its own next to it (scripts/stack.py).
        for database in (name, f"{name}_sandbox"):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


def lift_block(url: str, username: str) -> None:
    """Reactivate the customer's cards blocked after a report: no API does this (support reviews it)."""
    assert urlsplit(url).path.lstrip("/").startswith(f"{PREFIX}_"), "only an action tests database"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE cards SET status = 'active', freeze_reason = NULL WHERE customer_id = "
                     "(SELECT id FROM users WHERE username = %s)", (username,))


def set_delivery(url: str, username: str, *, delivered: bool) -> None:
    """The carrier's side, which no API has: the customer's cards posted three days ago, delivered or not."""
    assert urlsplit(url).path.lstrip("/").startswith(f"{PREFIX}_"), "only an action tests database"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE cards SET shipped_at = now() - interval '3 days', delivered_at = "
                     "CASE WHEN %s THEN now() - interval '1 day' END WHERE customer_id = "
                     "(SELECT id FROM users WHERE username = %s)", (delivered, username))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("create", "drop", "lift-block", "in-post", "delivered"))
    parser.add_argument("url", nargs="?")
    parser.add_argument("username", nargs="?")
    args = parser.parse_args(argv)
    if args.command == "create":
        print(create())
    elif args.command == "lift-block":
        assert args.url and args.username, "lift-block needs the database URL and a username"
        lift_block(args.url, args.username)
    elif args.command in ("in-post", "delivered"):
        assert args.url and args.username, f"{args.command} needs the database URL and a username"
        set_delivery(args.url, args.username, delivered=args.command == "delivered")
    else:
        assert args.url, "drop needs the database URL"
        drop(args.url)


if __name__ == "__main__":
    main()
