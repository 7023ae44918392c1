"""The SQL and Python agree on limits and error codes; the schema installs and uninstalls cleanly."""

from __future__ import annotations

import re
from importlib import resources

import psycopg

from ledger import limits, schema
from ledger.errors import ERROR_CODES, error_for


def test_sql_limits_match_python(conn: psycopg.Connection) -> None:
    (sql_limits,) = conn.execute("SELECT ledger_limits()").fetchone()
    for name, value in sql_limits.items():
        expected = getattr(limits, name)
        assert str(value) == (expected.isoformat() if name == "MIN_EFFECTIVE_AT" else str(expected)), name


def test_every_code_the_sql_returns_is_a_known_error() -> None:
    text = (resources.files("ledger") / "sql" / "functions.sql").read_text()
    codes = set(re.findall(r"ledger__reject\('([a-z_]+[a-z])'", text))
    codes |= set(re.findall(r"SELECT '([a-z_]+[a-z])',", text))
    codes |= {"exists_with_different_" + f for f in re.findall(r"v_field := '([a-z_]+)'", text)}
    codes |= {"exists_with_different_" + f for f in re.findall(r"WHEN h\.[^\n]*THEN '([a-z_]+)'", text)}
    codes.discard("ok")
    assert codes and codes <= ERROR_CODES, codes - ERROR_CODES
    for code in ERROR_CODES:
        assert error_for(code, "x").code == code


def test_install_and_uninstall_on_a_bare_database(pg: psycopg.Connection) -> None:
    pg.execute("CREATE SCHEMA ledger_install_test")
    try:
        pg.execute("SET search_path = ledger_install_test")
        schema.install(pg)
        assert pg.execute("SELECT count(*) FROM ledger_accounts").fetchone() == (0,)
        schema.uninstall(pg)
        assert pg.execute("SELECT to_regclass('ledger_install_test.ledger_entries')").fetchone() == (None,)
    finally:
        pg.execute("SET search_path = public")
        pg.execute("DROP SCHEMA ledger_install_test CASCADE")
