"""The ledger's SQL (tables in sql/schema.sql, functions in sql/functions.sql) and how to install it.

The Alembic migration 0001_ledger calls `install()`; tests and tools may call it on a bare database.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Protocol

from ledger.limits import SQL_TOKENS

SCHEMA_FILE = "schema.sql"
FUNCTIONS_FILE = "functions.sql"

TABLES = ("ledger_entries", "ledger_reversals", "ledger_transactions", "ledger_holds", "ledger_accounts")
FUNCTIONS = (
    "ledger_set_status(uuid, text)",
    "ledger_holds_expire(timestamptz, integer)",
    "ledger_hold_void(uuid)",
    "ledger_hold_post(uuid, uuid, bigint)",
    "ledger_hold_create(uuid, uuid, uuid, bigint, text, text, text, jsonb, text, text, timestamptz)",
    "ledger_reverse(uuid, uuid, text)",
    "ledger_transfer_batch(uuid[], uuid[], uuid[], bigint[], text[], text[], text[], jsonb[], text[], text[], "
    "timestamptz[])",
    "ledger_transfer(uuid, uuid, uuid, bigint, text, text, text, jsonb, text, text, timestamptz)",
    "ledger_post(uuid, text, uuid[], bigint[], text[], text, jsonb, text, text, timestamptz, uuid, boolean, "
    "uuid, bigint[], timestamptz)",
    "ledger__existing(ledger_transactions, text, uuid[], bigint[], text[], text[], text, jsonb, text, text, "
    "timestamptz, uuid, uuid)",
    "ledger__expired_pending(uuid, timestamptz, uuid)",
    "ledger__sweep_account(uuid, timestamptz, uuid)",
    "ledger__check_fields(text, text, jsonb, text, text)",
    "ledger_limits()",
    "ledger__reject(text, text)",
    "ledger_holds_guard()",
    "ledger_accounts_validate()",
    "ledger_forbid_change()",
)


class Executor(Protocol):
    """Anything with psycopg's `execute(query)`: a psycopg Connection or Cursor."""

    def execute(self, query: str, /) -> object: ...


def render(name: str) -> str:
    """The SQL file `name` with every __TOKEN__ replaced by its limit; fails on an unknown token."""
    text = (resources.files("ledger") / "sql" / name).read_text(encoding="utf-8")

    def substitute(match: re.Match[str]) -> str:
        token = match.group(1)
        if token not in SQL_TOKENS:
            raise KeyError(f"{name}: unknown token __{token}__")
        return SQL_TOKENS[token]

    rendered = re.sub(r"__([A-Z][A-Z0-9_]*)__", substitute, text)
    assert "__MAX" not in rendered
    return rendered


def install_functions(db: Executor) -> None:
    """(Re)create the PL/pgSQL functions; safe to run again (CREATE OR REPLACE)."""
    db.execute(render(FUNCTIONS_FILE))


def install(db: Executor) -> None:
    """Create the ledger's tables, types, triggers and functions (one multi-statement script each).

    `db` must execute a parameterless multi-statement string (psycopg does, with no parameters).
    """
    db.execute(render(SCHEMA_FILE))
    install_functions(db)


def uninstall(db: Executor) -> None:
    """Drop everything `install` created (for the migration's downgrade)."""
    statements = [f"DROP FUNCTION IF EXISTS {signature} CASCADE" for signature in FUNCTIONS]
    statements += [f"DROP TABLE IF EXISTS {table} CASCADE" for table in TABLES]
    statements.append("DROP TYPE IF EXISTS ledger_result")
    db.execute(";\n".join(statements))
