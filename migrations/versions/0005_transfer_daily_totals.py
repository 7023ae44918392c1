"""Per-customer daily transfer totals: the daily limit in O(1) and one short row lock per customer-day.

Revision ID: 0005_transfer_daily_totals
Revises: 0004_transcripts
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_transfer_daily_totals"
down_revision = "0004_transcripts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfer_daily_totals",
        sa.Column("customer_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("day", sa.Date, nullable=False),  # UTC calendar day
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "day", "currency"),
        sa.CheckConstraint("total >= 0", name="daily_total_non_negative"),
    )


def downgrade() -> None:
    op.drop_table("transfer_daily_totals")
