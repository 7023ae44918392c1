"""Why a card is frozen: a customer's own freeze (reversible by them) or a block after a report that
the card is lost, stolen or compromised (only support lifts it, or the card is replaced).

Revision ID: 0009_card_freeze_reason
Revises: 0008_transfer_record_probes
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_card_freeze_reason"
down_revision = "0008_transfer_record_probes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A code, never free text (the audit row carries the details); NULL while the card is not frozen.
    op.add_column("cards", sa.Column("freeze_reason", sa.String(24), nullable=True))
    op.create_check_constraint("card_freeze_reason", "cards",
                               "freeze_reason IN ('customer', 'fraud_report', 'card_compromised')")
    # Cards frozen before this revision: blocked if a lost, stolen or compromised report froze them,
    # otherwise the customer's own freeze.
    op.execute("""
        UPDATE cards c SET freeze_reason = CASE WHEN EXISTS (
            SELECT 1 FROM fraud_cases f WHERE f.card_id = c.id AND f.card_frozen
              AND f.kind IN ('lost_or_stolen_card', 'compromised_card')) THEN 'card_compromised' ELSE 'customer' END
        WHERE c.status = 'frozen'
    """)


def downgrade() -> None:
    op.drop_constraint("card_freeze_reason", "cards", type_="check")
    op.drop_column("cards", "freeze_reason")
