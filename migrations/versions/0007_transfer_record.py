"""transfers_record_batch(): transfers' whole writes, many per statement, round trip and commit.

The core checks each request in Python (ownership, KYC, per-transfer limit, idempotency replay) from
one read, then hands it to a per-worker writer (api/transfers/writer.py) that sends the transfers
waiting at that moment in one call. For each transfer the ledger posting (or hold), the transfer row,
its audit row, the daily total and the idempotency record are written together, or nothing is.

Revision ID: 0007_transfer_record
Revises: 0006_handoffs
"""

from alembic import op

revision = "0007_transfer_record"
down_revision = "0006_handoffs"
branch_labels = None
depends_on = None

# Locks, in the one global order of ledger/sql/functions.sql: every account of the batch first, in
# id order (the ledger functions called per item then re-lock rows already held), then the customers'
# daily totals, in key order. Other writers of those rows lock in the same order: no deadlocks.
# Per item, in array order: the daily limit (judged under the total's row lock, so no two concurrent
# transfers can both pass it), then the ledger, which returns a rejection code with nothing written;
# a rejected item writes nothing and does not affect the others. Results: one row per item, with code
# 'ok', 'daily_limit_exceeded' (detail: the day's total before it) or the ledger's code.
TRANSFERS_RECORD_BATCH = """
CREATE FUNCTION transfers_record_batch(p_items jsonb)
RETURNS TABLE (idx integer, code text, detail text) LANGUAGE plpgsql AS $$
DECLARE
    r record;
    v_result ledger_result;
    v_code text;
    v_detail text;
    v_status text;
    v_total bigint;
    v_day date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
    IF jsonb_typeof(p_items) <> 'array' OR jsonb_array_length(p_items) NOT BETWEEN 1 AND 256 THEN
        RAISE EXCEPTION 'transfers_record_batch: 1 to 256 items';
    END IF;
    PERFORM 1 FROM ledger_accounts WHERE id IN (
        SELECT (e->>'from_account_id')::uuid FROM jsonb_array_elements(p_items) e
        UNION SELECT (e->>'to_account_id')::uuid FROM jsonb_array_elements(p_items) e
        UNION SELECT (e->>'clearing_account_id')::uuid FROM jsonb_array_elements(p_items) e
    ) ORDER BY id FOR UPDATE;
    INSERT INTO transfer_daily_totals (customer_id, day, currency, total)
    SELECT DISTINCT (e->>'customer_id')::uuid, v_day, e->>'currency', 0 FROM jsonb_array_elements(p_items) e
    ORDER BY 1, 3
    ON CONFLICT DO NOTHING;
    PERFORM 1 FROM transfer_daily_totals d
    WHERE d.day = v_day AND (d.customer_id, d.currency) IN (
        SELECT (e->>'customer_id')::uuid, e->>'currency' FROM jsonb_array_elements(p_items) e)
    ORDER BY d.customer_id, d.currency FOR UPDATE;

    FOR r IN SELECT * FROM jsonb_to_recordset(p_items) AS x(
        idx integer, id uuid, customer_id uuid, from_account_id uuid, to_account_id uuid,
        clearing_account_id uuid, counterparty jsonb, amount bigint, currency text, reference text,
        ledger_transaction_id uuid, created_at timestamptz, hold_expires_at timestamptz, daily_max bigint,
        key text, request_hash text, response jsonb, key_expires_at timestamptz, actor text,
        correlation_id text)
    LOOP
        IF (r.to_account_id IS NULL) = (r.clearing_account_id IS NULL) THEN
            RAISE EXCEPTION 'transfers_record_batch: item % needs exactly one of to and clearing', r.idx;
        END IF;
        SELECT d.total INTO STRICT v_total FROM transfer_daily_totals d
        WHERE d.customer_id = r.customer_id AND d.day = v_day AND d.currency = r.currency;
        IF v_total + r.amount > r.daily_max THEN
            RETURN QUERY SELECT r.idx, 'daily_limit_exceeded'::text, v_total::text;
            CONTINUE;
        END IF;
        IF r.to_account_id IS NOT NULL THEN
            v_result := ledger_transfer(r.ledger_transaction_id, r.from_account_id, r.to_account_id, r.amount,
                                        r.currency, 'internal_transfer', r.reference,
                                        jsonb_build_object('transfer_id', r.id), 'transfers', NULL, NULL);
            v_code := v_result.code;
            v_detail := v_result.detail;
            IF v_code = 'ok' AND v_result.existing THEN
                v_code := 'exists_with_different_record';  -- this key's posting exists, its record expired
            END IF;
            v_status := 'completed';
        ELSE
            SELECT h.code, h.detail INTO v_code, v_detail
            FROM ledger_hold_create(r.ledger_transaction_id, r.from_account_id, r.clearing_account_id, r.amount,
                                    r.currency, 'external_transfer', r.reference,
                                    jsonb_build_object('transfer_id', r.id), 'transfers', NULL,
                                    r.hold_expires_at) AS h;
            v_status := 'pending';
        END IF;
        IF v_code <> 'ok' THEN
            RETURN QUERY SELECT r.idx, v_code, v_detail;  -- the ledger wrote nothing
            CONTINUE;
        END IF;
        INSERT INTO transfers (id, customer_id, from_account_id, to_account_id, counterparty, amount, currency,
                               reference, status, ledger_transaction_id, created_at, updated_at)
        VALUES (r.id, r.customer_id, r.from_account_id, r.to_account_id, r.counterparty, r.amount, r.currency,
                r.reference, v_status, r.ledger_transaction_id, r.created_at, r.created_at);
        INSERT INTO audit_log (actor, action, target_type, target_id, correlation_id, details)
        VALUES (r.actor, 'transfer.create', 'transfer', r.id::text, r.correlation_id,
                jsonb_build_object('amount', r.amount, 'currency', r.currency, 'status', v_status));
        UPDATE transfer_daily_totals d SET total = d.total + r.amount
        WHERE d.customer_id = r.customer_id AND d.day = v_day AND d.currency = r.currency;
        -- A second record for a key cannot get here: its ledger posting (same id) was refused above.
        INSERT INTO idempotency_keys (customer_id, key, request_hash, response_status, response_body, expires_at)
        VALUES (r.customer_id, r.key, r.request_hash, 201, r.response, r.key_expires_at);
        RETURN QUERY SELECT r.idx, 'ok'::text, NULL::text;
    END LOOP;
END $$;
"""


def upgrade() -> None:
    op.execute(TRANSFERS_RECORD_BATCH)


def downgrade() -> None:
    op.execute("DROP FUNCTION transfers_record_batch(jsonb)")
