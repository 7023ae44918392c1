"""Redacted conversation transcripts; customers' postal addresses (for the redaction deny list).

Revision ID: 0004_transcripts
Revises: 0003_banking
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_transcripts"
down_revision = "0003_banking"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("address", sa.String(300), nullable=True))
    op.create_table(
        "transcript_messages",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        # Idempotent ingestion: the broker may deliver an event twice after a retry.
        sa.Column("event_key", sa.String(64), nullable=False, unique=True),
        sa.Column("conversation_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("conversations.id"),
                  nullable=False),
        sa.Column("customer_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("text", sa.Text, nullable=False),  # redacted, never raw
        sa.Column("sealed", sa.Text),  # optional: the original, encrypted for compliance only
        sa.Column("entity_types", postgresql.ARRAY(sa.String(32)), nullable=False, server_default="{}"),
        sa.Column("intent", sa.String(80)),
        sa.Column("confidence", sa.Numeric(5, 4)),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("role IN ('user', 'bot', 'agent')", name="transcript_role"),
    )
    op.create_index("transcript_messages_conversation", "transcript_messages", ["conversation_id", "sent_at", "id"])
    op.create_index("transcript_messages_customer", "transcript_messages", ["customer_id"])
    op.create_index("transcript_messages_age", "transcript_messages", ["sent_at"])


def downgrade() -> None:
    op.drop_table("transcript_messages")
    op.drop_column("users", "address")
