"""Messaging channels: link codes and links between a channel identity and a customer (filled in by the
channels work).

Revision ID: 0013_channels
Revises: 0012_handoff_live
"""

revision = "0013_channels"
down_revision = "0012_handoff_live"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
