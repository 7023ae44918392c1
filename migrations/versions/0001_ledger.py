"""Ledger: accounts, transactions, immutable entries, holds, and the posting functions.

Revision ID: 0001_ledger
Revises: (none)

The SQL lives in ledger/sql/ (schema.sql, functions.sql) so the library, its tests and this migration
share one definition. Functions are CREATE OR REPLACE: a later migration that changes them calls
ledger.schema.install_functions() again.
"""

from __future__ import annotations

from alembic import op

from ledger import schema

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None


def _driver_connection():  # the psycopg connection under SQLAlchemy, inside Alembic's transaction
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    # Through the driver: the scripts contain PL/pgSQL (`:=`, `%`), which SQLAlchemy's text() would parse.
    schema.install(_driver_connection())


def downgrade() -> None:
    schema.uninstall(_driver_connection())
