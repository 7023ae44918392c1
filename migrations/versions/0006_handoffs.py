"""Live handoffs to support agents; agent messages in transcripts carry the agent's user id.

Revision ID: 0006_handoffs
Revises: 0005_transfer_daily_totals
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_handoffs"
down_revision = "0005_transfer_daily_totals"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("conversation_id", UUID, sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("customer_id", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("status", sa.String(8), nullable=False, server_default="waiting"),
        # A code chosen by the bot or the app ("customer_request"), never customer text: this column is
        # not redacted, so the check keeps free text out of it.
        sa.Column("reason", sa.String(40), nullable=False, server_default="customer_request"),
        sa.Column("agent_id", UUID, sa.ForeignKey("users.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('waiting', 'active', 'closed')", name="handoff_status"),
        sa.CheckConstraint("reason ~ '^[a-z0-9_]{1,40}$'", name="handoff_reason_is_a_code"),
        sa.CheckConstraint("(agent_id IS NULL) = (claimed_at IS NULL)", name="handoff_claimed_by_someone"),
        sa.CheckConstraint("status <> 'waiting' OR (agent_id IS NULL AND closed_at IS NULL)", name="handoff_waiting"),
        sa.CheckConstraint("status <> 'active' OR (agent_id IS NOT NULL AND closed_at IS NULL)",
                           name="handoff_active"),
        sa.CheckConstraint("status <> 'closed' OR closed_at IS NOT NULL", name="handoff_closed"),
    )
    # At most one open handoff per conversation: opening twice (a retried action) finds the first.
    op.create_index("handoffs_one_open_per_conversation", "handoffs", ["conversation_id"], unique=True,
                    postgresql_where=sa.text("status IN ('waiting', 'active')"))
    op.create_index("handoffs_conversation_agent", "handoffs", ["conversation_id", "agent_id"])
    op.create_index("handoffs_queue", "handoffs", ["created_at"], postgresql_where=sa.text("status = 'waiting'"))
    op.create_index("handoffs_agent", "handoffs", ["agent_id", "status", "created_at"])

    # Who wrote an agent line (the role check of 0004 already allows 'agent').
    op.add_column("transcript_messages", sa.Column("agent_id", UUID, sa.ForeignKey("users.id"), nullable=True))
    op.create_check_constraint("transcript_agent_author", "transcript_messages",
                               "(role = 'agent') = (agent_id IS NOT NULL)")


def downgrade() -> None:
    op.drop_constraint("transcript_agent_author", "transcript_messages", type_="check")
    op.drop_column("transcript_messages", "agent_id")
    op.drop_table("handoffs")
