"""transfers_record_batch(): one daily limit per customer across currencies.

Until now the daily total was kept, and judged, per currency: a customer with accounts in N currencies
could move N times the limit a day. An item now also carries `daily_currency` (the limit's currency,
transfer_daily_limit_currency) and `daily_amount` (the transfer's value in it, converted by the core at
its configured rate and rounded up: api/transfers/service.py). The total of that one row per customer
and day is judged and raised by `daily_amount` instead, under the same row lock as before, so two
concurrent transfers in different currencies now meet at one lock. An item without them (an older core)
counts in its own currency, as before. The rest of the function is 0008's, unchanged.

Rows of the upgrade day in other currencies are no longer read: on that day only, a customer's
transfers in other currencies made before the upgrade are not counted.

Revision ID: 0010_daily_limit_one_total
Revises: 0009_card_freeze_reason
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0010_daily_limit_one_total"
down_revision = "0009_card_freeze_reason"
branch_labels = None
depends_on = None


def _revision(name: str):
    # Revision files are loaded by path (their names are not importable module names).
    spec = importlib.util.spec_from_file_location(f"_rev_{name[:4]}", Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _previous_definition() -> str:
    """The function as 0008 left it."""
    r8 = _revision("0008_transfer_record_probes")
    return r8._replacing(r8._replacing(r8._previous_definition(), r8.ACCOUNT_LOCK_0007, r8.ACCOUNT_LOCK),
                         r8.DAILY_LOCK_0007, r8.DAILY_LOCK)


REPLACEMENTS = (
    # The rows to create and lock: one per customer and the limit's currency.
    ("SELECT DISTINCT (e->>'customer_id')::uuid, v_day, e->>'currency', 0 FROM jsonb_array_elements(p_items) e",
     "SELECT DISTINCT (e->>'customer_id')::uuid, v_day, coalesce(e->>'daily_currency', e->>'currency'), 0\n"
     "    FROM jsonb_array_elements(p_items) e"),
    ("SELECT (e->>'customer_id')::uuid, e->>'currency' FROM jsonb_array_elements(p_items) e)",
     "SELECT (e->>'customer_id')::uuid, coalesce(e->>'daily_currency', e->>'currency')\n"
     "        FROM jsonb_array_elements(p_items) e)"),
    ("ledger_transaction_id uuid, created_at timestamptz, hold_expires_at timestamptz, daily_max bigint,",
     "ledger_transaction_id uuid, created_at timestamptz, hold_expires_at timestamptz, daily_max bigint,\n"
     "        daily_currency text, daily_amount bigint,"),
    # Judged and counted in the limit's currency.
    ("WHERE d.customer_id = r.customer_id AND d.day = v_day AND d.currency = r.currency;\n        IF v_total",
     "WHERE d.customer_id = r.customer_id AND d.day = v_day\n"
     "          AND d.currency = coalesce(r.daily_currency, r.currency);\n        IF v_total"),
    ("IF v_total + r.amount > r.daily_max THEN",
     "IF v_total + coalesce(r.daily_amount, r.amount) > r.daily_max THEN"),
    ("UPDATE transfer_daily_totals d SET total = d.total + r.amount\n"
     "        WHERE d.customer_id = r.customer_id AND d.day = v_day AND d.currency = r.currency;",
     "UPDATE transfer_daily_totals d SET total = d.total + coalesce(r.daily_amount, r.amount)\n"
     "        WHERE d.customer_id = r.customer_id AND d.day = v_day\n"
     "          AND d.currency = coalesce(r.daily_currency, r.currency);"),
)


def definition() -> str:
    text = _previous_definition()
    for old, new in REPLACEMENTS:
        assert text.count(old) == 1, f"0008's function is not what this revision expects: {old!r}"
        text = text.replace(old, new)
    return text.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def upgrade() -> None:
    op.execute(definition())


def downgrade() -> None:
    op.execute(_previous_definition().replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
