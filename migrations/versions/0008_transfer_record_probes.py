"""transfers_record_batch(): its two lock statements as key probes.

0007 locked the batch's accounts and daily totals with joins against the batch's items. Planned for a
small table, or with the generic plan the transfer path uses (api/db_async.py), such a join reads the
whole table, or the whole index, on every call. Written as `= ANY (array)`, each can only be an index
probe per key. The rest of the function is 0007's, unchanged; so is every lock's order.

Revision ID: 0008_transfer_record_probes
Revises: 0007_transfer_record
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0008_transfer_record_probes"
down_revision = "0007_transfer_record"
branch_labels = None
depends_on = None


def _previous_definition() -> str:
    # Revision files are loaded by path (their names are not importable module names).
    spec = importlib.util.spec_from_file_location("_rev_0007", Path(__file__).with_name("0007_transfer_record.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TRANSFERS_RECORD_BATCH


ACCOUNT_LOCK_0007 = """
    PERFORM 1 FROM ledger_accounts WHERE id IN (
        SELECT (e->>'from_account_id')::uuid FROM jsonb_array_elements(p_items) e
        UNION SELECT (e->>'to_account_id')::uuid FROM jsonb_array_elements(p_items) e
        UNION SELECT (e->>'clearing_account_id')::uuid FROM jsonb_array_elements(p_items) e
    ) ORDER BY id FOR UPDATE;
"""
ACCOUNT_LOCK = """
    PERFORM 1 FROM ledger_accounts WHERE id = ANY (ARRAY(
        SELECT (e->>'from_account_id')::uuid FROM jsonb_array_elements(p_items) e
        UNION SELECT (e->>'to_account_id')::uuid FROM jsonb_array_elements(p_items) e
        UNION SELECT (e->>'clearing_account_id')::uuid FROM jsonb_array_elements(p_items) e
    )) ORDER BY id FOR UPDATE;
"""
DAILY_LOCK_0007 = """
    PERFORM 1 FROM transfer_daily_totals d
    WHERE d.day = v_day AND (d.customer_id, d.currency) IN (
        SELECT (e->>'customer_id')::uuid, e->>'currency' FROM jsonb_array_elements(p_items) e)
    ORDER BY d.customer_id, d.currency FOR UPDATE;
"""
DAILY_LOCK = """
    PERFORM 1 FROM transfer_daily_totals d
    WHERE d.customer_id = ANY (ARRAY(SELECT (e->>'customer_id')::uuid FROM jsonb_array_elements(p_items) e))
      AND d.day = v_day
      AND (d.customer_id, d.currency) IN (
        SELECT (e->>'customer_id')::uuid, e->>'currency' FROM jsonb_array_elements(p_items) e)
    ORDER BY d.customer_id, d.currency FOR UPDATE;
"""


def _replacing(definition: str, old: str, new: str) -> str:
    assert definition.count(old) == 1, "0007's statement is where this revision expects it"
    return definition.replace(old, new)


def upgrade() -> None:
    definition = _replacing(_replacing(_previous_definition(), ACCOUNT_LOCK_0007, ACCOUNT_LOCK),
                            DAILY_LOCK_0007, DAILY_LOCK)
    op.execute(definition.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))


def downgrade() -> None:
    op.execute(_previous_definition().replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
