"""Banking domains of the core: cards and authorizations, payees, transfers with idempotency records,
fraud cases, KYC events, refresh tokens and the append-only audit log.

Revision ID: 0003_banking
Revises: 0002_core
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_banking"
down_revision = "0002_core"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)
JSONB = postgresql.JSONB


def _now() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "cards",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("customer_id", UUID, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("account_id", UUID, nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("brand", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, server_default="physical"),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("expires_month", sa.SmallInteger, nullable=False),
        sa.Column("expires_year", sa.SmallInteger, nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True)),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        _now(),
        sa.CheckConstraint("status IN ('active', 'frozen', 'cancelled')", name="card_status"),
        sa.CheckConstraint("last4 ~ '^[0-9]{4}$'", name="card_last4"),
    )
    op.create_table(
        "card_authorizations",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("card_id", UUID, sa.ForeignKey("cards.id"), nullable=False),
        sa.Column("merchant", sa.String(120), nullable=False),
        sa.Column("category", sa.String(32)),
        sa.Column("mcc", sa.String(4)),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decline_reason", sa.String(32)),
        sa.Column("ledger_transaction_id", UUID),
        _now(),
        sa.CheckConstraint("amount > 0", name="auth_amount_positive"),
        sa.CheckConstraint("status IN ('approved', 'declined', 'pending')", name="auth_status"),
        sa.CheckConstraint("(status = 'declined') = (decline_reason IS NOT NULL)", name="auth_decline_reason"),
    )
    op.create_index("card_authorizations_card_recent", "card_authorizations", ["card_id", "created_at"])
    op.create_table(
        "payees",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("customer_id", UUID, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("name", sa.String(140), nullable=False),
        sa.Column("iban", sa.String(34)),
        sa.Column("account_number", sa.String(34)),
        _now(),
        sa.CheckConstraint("iban IS NOT NULL OR account_number IS NOT NULL", name="payee_has_destination"),
    )
    op.create_table(
        "transfers",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("customer_id", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("from_account_id", UUID, nullable=False),
        sa.Column("to_account_id", UUID),
        sa.Column("counterparty", JSONB),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reference", sa.String(140)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.String(64)),
        sa.Column("ledger_transaction_id", UUID),
        _now(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("amount > 0", name="transfer_amount_positive"),
        sa.CheckConstraint("status IN ('completed', 'pending', 'failed')", name="transfer_status"),
        sa.CheckConstraint("(to_account_id IS NULL) <> (counterparty IS NULL)", name="transfer_one_destination"),
    )
    op.create_index("transfers_customer_recent", "transfers", ["customer_id", "created_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("customer_id", UUID, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response_status", sa.SmallInteger, nullable=False),
        sa.Column("response_body", JSONB, nullable=False),
        _now(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "key"),
    )
    op.create_index("idempotency_keys_expiry", "idempotency_keys", ["expires_at"])
    op.create_table(
        "fraud_cases",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("customer_id", UUID, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("card_id", UUID, sa.ForeignKey("cards.id")),
        sa.Column("transaction_id", UUID),
        sa.Column("description", sa.String(1000)),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("card_frozen", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("resolution_note", sa.String(1000)),
        _now(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("status IN ('open', 'investigating', 'resolved', 'rejected')", name="fraud_status"),
        sa.CheckConstraint("card_id IS NOT NULL OR transaction_id IS NOT NULL", name="fraud_has_subject"),
    )
    op.create_table(
        "kyc_events",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("customer_id", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("family_id", UUID, nullable=False, index=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        _now(),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(128), nullable=False),
        sa.Column("correlation_id", sa.String(128)),
        sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.create_index("audit_log_target", "audit_log", ["target_type", "target_id", "at"])
    # Append-only: the audit log refuses UPDATE and DELETE whoever asks (TRUNCATE too).
    op.execute("""
        CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
    """)


def downgrade() -> None:
    op.execute("DROP TABLE audit_log; DROP FUNCTION audit_log_is_append_only()")
    for table in ("refresh_tokens", "kyc_events", "fraud_cases", "idempotency_keys", "transfers", "payees",
                  "card_authorizations", "cards"):
        op.drop_table(table)
