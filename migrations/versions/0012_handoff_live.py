"""Live handoff: overdue handoffs, callbacks, summaries (filled in by the live-handoff work).

Revision ID: 0012_handoff_live
Revises: 0011_sagas
"""

revision = "0012_handoff_live"
down_revision = "0011_sagas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
