-- Ledger write functions. Each is one round trip from the client and runs atomically: callers either
-- get code 'ok' with everything written, or a rejection code with nothing written.
--
-- Concurrency rules (why concurrent postings never deadlock):
--   1. every function locks the accounts it touches with one SELECT ... ORDER BY id FOR UPDATE, before
--      any write, so all lock acquisition follows one global order (account id);
--   2. a hold row is only read-for-change or changed while its from-account is locked, after rule 1;
--   3. nothing else is locked (transaction ids are protected by the primary key, whose conflicts
--      are handled with ON CONFLICT DO NOTHING).
-- READ COMMITTED is assumed: after waiting for a lock each statement sees the winner's commit.
--
-- Tokens like __MAX_AMOUNT__ come from ledger/limits.py (see ledger/schema.py).

CREATE OR REPLACE FUNCTION ledger__reject(p_code text, p_detail text) RETURNS ledger_result
LANGUAGE sql IMMUTABLE AS $$
    SELECT ROW(p_code, p_detail, NULL, NULL, false, NULL, NULL, NULL)::ledger_result
$$;

-- Shared limits, for tests that check SQL and Python agree.
CREATE OR REPLACE FUNCTION ledger_limits() RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'MAX_AMOUNT', __MAX_AMOUNT__::bigint, 'MAX_BALANCE', __MAX_BALANCE__::bigint,
        'MAX_ENTRIES', __MAX_ENTRIES__, 'MAX_METADATA_BYTES', __MAX_METADATA_BYTES__,
        'MAX_KIND_LEN', __MAX_KIND_LEN__, 'MAX_REFERENCE_LEN', __MAX_REFERENCE_LEN__,
        'MAX_CATEGORY_LEN', __MAX_CATEGORY_LEN__, 'MAX_MERCHANT_LEN', __MAX_MERCHANT_LEN__,
        'MAX_HOLD_SECONDS', __MAX_HOLD_SECONDS__, 'MIN_EFFECTIVE_AT', '__MIN_EFFECTIVE_AT__')
$$;

-- Validates the free-text fields of a transaction or hold (Python checks the same first; this is the
-- backstop for other callers). Returns NULL when fine.
CREATE OR REPLACE FUNCTION ledger__check_fields(
    p_kind text, p_reference text, p_metadata jsonb, p_category text, p_merchant text
) RETURNS ledger_result LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_kind IS NULL OR length(p_kind) NOT BETWEEN 1 AND __MAX_KIND_LEN__ THEN
        RETURN ledger__reject('invalid_field', 'kind must have 1 to __MAX_KIND_LEN__ characters');
    ELSIF length(p_reference) > __MAX_REFERENCE_LEN__ THEN
        RETURN ledger__reject('invalid_field', 'reference is longer than __MAX_REFERENCE_LEN__ characters');
    ELSIF length(p_category) NOT BETWEEN 1 AND __MAX_CATEGORY_LEN__ THEN
        RETURN ledger__reject('invalid_field', 'category must have 1 to __MAX_CATEGORY_LEN__ characters');
    ELSIF length(p_merchant) NOT BETWEEN 1 AND __MAX_MERCHANT_LEN__ THEN
        RETURN ledger__reject('invalid_field', 'merchant must have 1 to __MAX_MERCHANT_LEN__ characters');
    ELSIF jsonb_typeof(p_metadata) <> 'object' THEN  -- NULL metadata stands for {}
        RETURN ledger__reject('invalid_metadata', 'metadata must be a JSON object');
    ELSIF octet_length(p_metadata::text) > __MAX_METADATA_BYTES__ THEN
        RETURN ledger__reject('metadata_too_large', 'metadata is larger than __MAX_METADATA_BYTES__ bytes');
    END IF;
    RETURN NULL;
END $$;

-- Releases the expired pending holds of one account. The caller holds the account's lock.
CREATE OR REPLACE FUNCTION ledger__sweep_account(p_account uuid, p_now timestamptz, p_except uuid DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_total bigint;
BEGIN
    WITH expired AS (
        UPDATE ledger_holds SET status = 'expired', resolved_at = p_now
        WHERE from_account_id = p_account AND status = 'pending' AND expires_at <= p_now
          AND id IS DISTINCT FROM p_except
        RETURNING amount)
    SELECT coalesce(sum(amount), 0) INTO v_total FROM expired;
    IF v_total > 0 THEN
        UPDATE ledger_accounts SET pending_out = pending_out - v_total WHERE id = p_account;
    END IF;
    RETURN v_total;
END $$;

-- Sum of an account's holds that are past expiry but not swept yet: they no longer reserve funds.
CREATE OR REPLACE FUNCTION ledger__expired_pending(p_account uuid, p_now timestamptz, p_except uuid DEFAULT NULL)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(amount), 0)::bigint FROM ledger_holds
    WHERE from_account_id = p_account AND status = 'pending' AND expires_at <= p_now
      AND id IS DISTINCT FROM p_except
$$;

-- The answer to a retry: the stored transaction if the request is identical, else which field differs
-- (TigerBeetle's exists_with_different_*). Legs compare as a set of (account, amount) pairs.
CREATE OR REPLACE FUNCTION ledger__existing(
    v_tx ledger_transactions, p_kind text, p_accounts uuid[], p_amounts bigint[], p_currencies text[],
    v_cur text[], p_reference text, p_metadata jsonb, p_category text, p_merchant text,
    p_effective_at timestamptz, p_reverses uuid, p_hold uuid
) RETURNS ledger_result LANGUAGE plpgsql AS $$
DECLARE
    v_field text;
    v_bals bigint[] := '{}';
    v_vers bigint[] := '{}';
    b bigint;
    v bigint;
BEGIN
    IF (SELECT array_agg(a ORDER BY a) FROM unnest(v_tx.account_ids) a)
       IS DISTINCT FROM (SELECT array_agg(a ORDER BY a) FROM unnest(p_accounts) a) THEN
        v_field := 'accounts';
    ELSIF (SELECT array_agg(x ORDER BY a) FROM unnest(v_tx.account_ids, v_tx.amounts) u(a, x))
          IS DISTINCT FROM (SELECT array_agg(x ORDER BY a) FROM unnest(p_accounts, p_amounts) u(a, x)) THEN
        v_field := 'amount';
    ELSIF p_currencies IS NOT NULL AND EXISTS (
            SELECT 1 FROM unnest(p_currencies, v_cur) u(want, have) WHERE want IS NOT NULL AND want <> have) THEN
        v_field := 'currency';
    ELSIF v_tx.kind IS DISTINCT FROM p_kind THEN
        v_field := 'kind';
    ELSIF v_tx.reverses_id IS DISTINCT FROM p_reverses THEN
        v_field := 'reversal';
    ELSIF v_tx.hold_id IS DISTINCT FROM p_hold THEN
        v_field := 'hold';
    ELSIF v_tx.reference IS DISTINCT FROM p_reference THEN
        v_field := 'reference';
    ELSIF v_tx.category IS DISTINCT FROM p_category THEN
        v_field := 'category';
    ELSIF v_tx.merchant IS DISTINCT FROM p_merchant THEN
        v_field := 'merchant';
    ELSIF v_tx.metadata IS DISTINCT FROM coalesce(p_metadata, '{}'::jsonb) THEN
        v_field := 'metadata';
    ELSIF p_effective_at IS NOT NULL AND v_tx.effective_at <> p_effective_at THEN
        v_field := 'effective_at';
    END IF;
    IF v_field IS NOT NULL THEN
        RETURN ledger__reject('exists_with_different_' || v_field,
                              format('transaction %s exists with a different %s', v_tx.id, v_field));
    END IF;
    -- Balances after the stored transaction, in the caller's leg order.
    FOR i IN 1 .. cardinality(p_accounts) LOOP
        SELECT e.balance_after, e.version INTO b, v FROM ledger_entries e
        WHERE e.account_id = p_accounts[i] AND e.effective_at = v_tx.effective_at AND e.transaction_id = v_tx.id;
        v_bals := v_bals || b;
        v_vers := v_vers || v;
    END LOOP;
    RETURN ROW('ok', NULL, v_tx.created_at, v_tx.effective_at, true, v_bals, v_vers, v_cur)::ledger_result;
END $$;

-- Posts one transaction: legs (p_accounts[i] moves by p_amounts[i]) that sum to zero per currency.
-- p_currencies[i], when not NULL, is the currency the caller expects account i to hold.
-- Internal parameters (used by ledger_hold_post and ledger_reverse): p_hold links the posting to the
-- hold it settles, p_pending[i] is added to account i's pending_out, p_now fixes the clock.
CREATE OR REPLACE FUNCTION ledger_post(
    p_id uuid, p_kind text, p_accounts uuid[], p_amounts bigint[], p_currencies text[],
    p_reference text, p_metadata jsonb, p_category text, p_merchant text, p_effective_at timestamptz,
    p_reverses uuid DEFAULT NULL, p_allow_frozen boolean DEFAULT false,
    p_hold uuid DEFAULT NULL, p_pending bigint[] DEFAULT NULL, p_now timestamptz DEFAULT NULL
) RETURNS ledger_result LANGUAGE plpgsql AS $$
DECLARE
    n integer := coalesce(cardinality(p_accounts), 0);
    v_cur text[];
    v_status text[];
    v_neg boolean[];
    v_bal bigint[];
    v_pend bigint[];
    v_sweep boolean[];
    v_any_sweep boolean := false;
    v_found integer := 0;
    v_pos integer;
    r record;
    v_tx ledger_transactions%ROWTYPE;
    v_now timestamptz;
    v_eff timestamptz;
    v_new bigint;
    v_pend_new bigint;
    v_bals bigint[];
    v_vers bigint[];
    v_bad ledger_result;
    b bigint;
    v bigint;
    c text;
BEGIN
    -- 1. Shape and limits: no database access needed.
    IF n < 2 THEN
        RETURN ledger__reject('invalid_legs', 'a transaction needs at least 2 entries');
    ELSIF n > __MAX_ENTRIES__ THEN
        RETURN ledger__reject('too_many_entries', 'a transaction has at most __MAX_ENTRIES__ entries');
    ELSIF p_id IS NULL THEN
        RETURN ledger__reject('invalid_field', 'transaction id is required');
    ELSIF coalesce(cardinality(p_amounts), 0) <> n OR coalesce(cardinality(p_currencies), n) <> n
          OR coalesce(cardinality(p_pending), n) <> n THEN
        RETURN ledger__reject('invalid_legs', 'accounts, amounts and currencies must have one element per leg');
    END IF;
    FOR i IN 1 .. n LOOP
        IF p_accounts[i] IS NULL THEN
            RETURN ledger__reject('account_not_found', 'account id is missing');
        ELSIF p_amounts[i] IS NULL OR p_amounts[i] = 0 OR p_amounts[i] NOT BETWEEN -__MAX_AMOUNT__ AND __MAX_AMOUNT__ THEN
            RETURN ledger__reject('invalid_amount', format('amount %s is zero or beyond +/-__MAX_AMOUNT__', p_amounts[i]));
        END IF;
    END LOOP;
    IF (n = 2 AND p_accounts[1] = p_accounts[2])
       OR (n > 2 AND (SELECT count(DISTINCT a) FROM unnest(p_accounts) a) <> n) THEN
        RETURN ledger__reject('same_account', 'an account appears in more than one leg');
    END IF;
    v_bad := ledger__check_fields(p_kind, p_reference, p_metadata, p_category, p_merchant);
    IF v_bad.code IS NOT NULL THEN  -- (a row IS NOT NULL only when all its fields are)
        RETURN v_bad;
    END IF;

    -- 2. Lock the accounts in id order (the only lock order in the ledger: no deadlocks).
    v_cur := array_fill(NULL::text, ARRAY[n]);
    v_status := v_cur; v_neg := array_fill(NULL::boolean, ARRAY[n]); v_sweep := v_neg;
    v_bal := array_fill(NULL::bigint, ARRAY[n]); v_pend := v_bal; v_bals := v_bal; v_vers := v_bal;
    FOR r IN SELECT a.id, a.currency, a.status, a.allow_negative, a.balance, a.pending_out
             FROM ledger_accounts a WHERE a.id = ANY (p_accounts) ORDER BY a.id FOR UPDATE LOOP
        v_pos := array_position(p_accounts, r.id);
        v_cur[v_pos] := r.currency; v_status[v_pos] := r.status; v_neg[v_pos] := r.allow_negative;
        v_bal[v_pos] := r.balance; v_pend[v_pos] := r.pending_out;
        v_found := v_found + 1;
    END LOOP;
    IF v_found < n THEN
        FOR i IN 1 .. n LOOP
            IF v_cur[i] IS NULL THEN
                RETURN ledger__reject('account_not_found', format('account %s does not exist', p_accounts[i]));
            END IF;
        END LOOP;
    END IF;
    -- Taken after the locks: per account, created_at then follows the order of its entries.
    v_now := coalesce(p_now, clock_timestamp());

    -- 3. Idempotency: a retry of a stored transaction returns it (or says which field differs).
    SELECT * INTO v_tx FROM ledger_transactions WHERE id = p_id;
    IF FOUND THEN
        RETURN ledger__existing(v_tx, p_kind, p_accounts, p_amounts, p_currencies, v_cur, p_reference,
                                p_metadata, p_category, p_merchant, p_effective_at, p_reverses, p_hold);
    END IF;
    -- Every reversal of a transaction locks that transaction's accounts, so this answer cannot go
    -- stale before our insert below.
    IF p_reverses IS NOT NULL AND EXISTS (SELECT 1 FROM ledger_reversals WHERE original_id = p_reverses) THEN
        RETURN ledger__reject('already_reversed', format('transaction %s is already reversed', p_reverses));
    END IF;

    -- 4. Business checks, all before the first write.
    IF p_effective_at IS NOT NULL AND (p_effective_at > v_now OR p_effective_at < '__MIN_EFFECTIVE_AT__') THEN
        RETURN ledger__reject('invalid_effective_at',
                              'effective_at must be between __MIN_EFFECTIVE_AT__ and the posting time');
    END IF;
    FOR i IN 1 .. n LOOP
        IF p_currencies IS NOT NULL AND p_currencies[i] IS NOT NULL AND p_currencies[i] <> v_cur[i] THEN
            RETURN ledger__reject('currency_mismatch',
                format('account %s holds %s, not %s', p_accounts[i], v_cur[i], p_currencies[i]));
        END IF;
    END LOOP;
    IF n = 2 THEN
        IF v_cur[1] <> v_cur[2] THEN
            RETURN ledger__reject('currency_mismatch',
                format('accounts hold %s and %s: use an FX transfer', v_cur[1], v_cur[2]));
        ELSIF p_amounts[1] + p_amounts[2] <> 0 THEN
            RETURN ledger__reject('unbalanced', format('entries sum to %s %s, not zero', p_amounts[1] + p_amounts[2], v_cur[1]));
        END IF;
    ELSE
        SELECT u.c INTO c FROM unnest(v_cur, p_amounts) u(c, a) GROUP BY u.c HAVING sum(u.a) <> 0 LIMIT 1;
        IF FOUND THEN
            RETURN ledger__reject('unbalanced', format('entries in %s do not sum to zero', c));
        END IF;
    END IF;
    FOR i IN 1 .. n LOOP
        IF v_status[i] = 'closed' THEN
            RETURN ledger__reject('account_closed', format('account %s is closed', p_accounts[i]));
        ELSIF v_status[i] = 'frozen' AND NOT p_allow_frozen THEN
            RETURN ledger__reject('account_frozen', format('account %s is frozen', p_accounts[i]));
        END IF;
    END LOOP;
    FOR i IN 1 .. n LOOP
        v_new := v_bal[i] + p_amounts[i];
        v_pend_new := v_pend[i] + coalesce(p_pending[i], 0);
        IF v_new NOT BETWEEN -__MAX_BALANCE__ AND __MAX_BALANCE__ THEN
            RETURN ledger__reject('balance_out_of_range', format('account %s would leave +/-__MAX_BALANCE__', p_accounts[i]));
        ELSIF p_amounts[i] < 0 AND NOT v_neg[i] AND v_new < v_pend_new THEN
            -- Rare path: holds past expiry that the sweeper has not released yet no longer count.
            IF v_new < v_pend_new - ledger__expired_pending(p_accounts[i], v_now, p_hold) THEN
                RETURN ledger__reject('insufficient_funds',
                    format('account %s has %s available, needs %s', p_accounts[i],
                           v_bal[i] - v_pend[i] + ledger__expired_pending(p_accounts[i], v_now, p_hold), -p_amounts[i]));
            END IF;
            v_sweep[i] := true;
            v_any_sweep := true;
        END IF;
    END LOOP;

    -- 5. Writes.
    v_eff := coalesce(p_effective_at, v_now);
    INSERT INTO ledger_transactions (id, kind, reference, metadata, category, merchant, account_ids, amounts,
                                     created_at, effective_at, reverses_id, hold_id)
    VALUES (p_id, p_kind, p_reference, coalesce(p_metadata, '{}'::jsonb), p_category, p_merchant, p_accounts,
            p_amounts, v_now, v_eff, p_reverses, p_hold)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        -- Lost a race with a concurrent posting of the same id on other accounts: compare with it.
        SELECT * INTO v_tx FROM ledger_transactions WHERE id = p_id;
        RETURN ledger__existing(v_tx, p_kind, p_accounts, p_amounts, p_currencies, v_cur, p_reference,
                                p_metadata, p_category, p_merchant, p_effective_at, p_reverses, p_hold);
    END IF;
    IF p_reverses IS NOT NULL THEN
        INSERT INTO ledger_reversals (original_id, reversal_id, created_at) VALUES (p_reverses, p_id, v_now);
    END IF;
    IF v_any_sweep THEN
        FOR i IN 1 .. n LOOP
            IF v_sweep[i] THEN
                PERFORM ledger__sweep_account(p_accounts[i], v_now, p_hold);
            END IF;
        END LOOP;
    END IF;
    FOR i IN 1 .. n LOOP
        UPDATE ledger_accounts
        SET balance = balance + p_amounts[i], version = version + 1,
            pending_out = pending_out + coalesce(p_pending[i], 0)
        WHERE id = p_accounts[i]
        RETURNING balance, version INTO b, v;
        v_bals[i] := b;
        v_vers[i] := v;
    END LOOP;
    INSERT INTO ledger_entries (account_id, version, transaction_id, amount, balance_after, currency, kind,
                                category, merchant, reference, effective_at, created_at, reverses_id)
    SELECT u.a, u.v, p_id, u.x, u.b, u.c, p_kind, p_category, p_merchant, p_reference, v_eff, v_now, p_reverses
    FROM unnest(p_accounts, v_vers, p_amounts, v_bals, v_cur) AS u(a, v, x, b, c);
    RETURN ROW('ok', NULL, v_now, v_eff, false, v_bals, v_vers, v_cur)::ledger_result;
END $$;

-- The hot path: a two-leg transfer of p_amount from p_from to p_to. Same contract and answers as
-- ledger_post(p_id, p_kind, [p_from, p_to], [-p_amount, p_amount], [p_currency, p_currency], ...): when
-- anything is unusual (a retry, a rejection, holds past expiry, a race) it hands the request to
-- ledger_post, which then decides; a plain valid transfer runs here with scalar variables and no loops,
-- which costs about half of the generic function (see docs/benchmarks.md).
CREATE OR REPLACE FUNCTION ledger_transfer(
    p_id uuid, p_from uuid, p_to uuid, p_amount bigint, p_currency text, p_kind text, p_reference text,
    p_metadata jsonb, p_category text, p_merchant text, p_effective_at timestamptz
) RETURNS ledger_result LANGUAGE plpgsql AS $$
DECLARE
    f ledger_accounts%ROWTYPE;
    t ledger_accounts%ROWTYPE;
    v_now timestamptz;
    v_eff timestamptz;
    b1 bigint;
    v1 bigint;
    b2 bigint;
    v2 bigint;
BEGIN
    -- A transfer's amount is positive: checked here, because the legs handed to ledger_post below
    -- (-p_amount, +p_amount) would otherwise turn a negative amount into a transfer the other way.
    IF p_amount IS NULL OR p_amount NOT BETWEEN 1 AND __MAX_AMOUNT__ THEN
        RETURN ledger__reject('invalid_amount', format('amount %s is not between 1 and __MAX_AMOUNT__', p_amount));
    END IF;
    -- Locks in id order, like every other function (the generic path below re-locks for free).
    IF p_from < p_to THEN
        SELECT * INTO f FROM ledger_accounts WHERE id = p_from FOR UPDATE;
        SELECT * INTO t FROM ledger_accounts WHERE id = p_to FOR UPDATE;
    ELSIF p_from > p_to THEN
        SELECT * INTO t FROM ledger_accounts WHERE id = p_to FOR UPDATE;
        SELECT * INTO f FROM ledger_accounts WHERE id = p_from FOR UPDATE;
    END IF;
    v_now := clock_timestamp();
    IF p_id IS NULL OR f.id IS NULL OR t.id IS NULL  -- also covers p_from = p_to and NULL accounts
       OR f.status <> 'active' OR t.status <> 'active' OR f.currency <> t.currency
       OR (p_currency IS NOT NULL AND p_currency <> f.currency)
       OR f.balance - p_amount < -__MAX_BALANCE__ OR t.balance + p_amount > __MAX_BALANCE__
       OR (NOT f.allow_negative AND f.balance - p_amount < f.pending_out)
       OR p_kind IS NULL OR length(p_kind) NOT BETWEEN 1 AND __MAX_KIND_LEN__
       OR length(p_reference) > __MAX_REFERENCE_LEN__
       OR length(p_category) NOT BETWEEN 1 AND __MAX_CATEGORY_LEN__
       OR length(p_merchant) NOT BETWEEN 1 AND __MAX_MERCHANT_LEN__
       OR (p_metadata IS NOT NULL AND (jsonb_typeof(p_metadata) <> 'object'
                                       OR octet_length(p_metadata::text) > __MAX_METADATA_BYTES__))
       OR p_effective_at > v_now OR p_effective_at < '__MIN_EFFECTIVE_AT__'
       OR EXISTS (SELECT 1 FROM ledger_transactions WHERE id = p_id) THEN
        RETURN ledger_post(p_id, p_kind, ARRAY[p_from, p_to], ARRAY[-p_amount, p_amount], ARRAY[p_currency, p_currency],
                           p_reference, p_metadata, p_category, p_merchant, p_effective_at);
    END IF;

    v_eff := coalesce(p_effective_at, v_now);
    INSERT INTO ledger_transactions (id, kind, reference, metadata, category, merchant, account_ids, amounts,
                                     created_at, effective_at)
    VALUES (p_id, p_kind, p_reference, coalesce(p_metadata, '{}'::jsonb), p_category, p_merchant,
            ARRAY[p_from, p_to], ARRAY[-p_amount, p_amount], v_now, v_eff)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN  -- a concurrent posting of the same id won: ledger_post compares with it
        RETURN ledger_post(p_id, p_kind, ARRAY[p_from, p_to], ARRAY[-p_amount, p_amount], ARRAY[p_currency, p_currency],
                           p_reference, p_metadata, p_category, p_merchant, p_effective_at);
    END IF;
    UPDATE ledger_accounts SET balance = balance - p_amount, version = version + 1 WHERE id = p_from
    RETURNING balance, version INTO b1, v1;
    UPDATE ledger_accounts SET balance = balance + p_amount, version = version + 1 WHERE id = p_to
    RETURNING balance, version INTO b2, v2;
    INSERT INTO ledger_entries (account_id, version, transaction_id, amount, balance_after, currency, kind,
                                category, merchant, reference, effective_at, created_at)
    VALUES (p_from, v1, p_id, -p_amount, b1, f.currency, p_kind, p_category, p_merchant, p_reference, v_eff, v_now),
           (p_to, v2, p_id, p_amount, b2, t.currency, p_kind, p_category, p_merchant, p_reference, v_eff, v_now);
    RETURN ROW('ok', NULL, v_now, v_eff, false, ARRAY[b1, b2], ARRAY[v1, v2], ARRAY[f.currency, t.currency])::ledger_result;
END $$;

-- Many independent transfers in one call and one commit (the batching client, ledger.aio.TransferBatcher).
-- Each transfer is judged and applied on its own exactly as by ledger_transfer, in array order; one
-- transfer's rejection does not affect the others, and nothing raises for a rejection, so the batch
-- always commits whatever succeeded. All accounts of the batch are locked up front, in id order: no
-- deadlock with other batches or single postings, and a hot account is locked once per batch instead
-- of once per transfer (its lock is held across one commit, not one commit per transfer).
CREATE OR REPLACE FUNCTION ledger_transfer_batch(
    p_ids uuid[], p_from uuid[], p_to uuid[], p_amounts bigint[], p_currencies text[], p_kinds text[],
    p_references text[], p_metadata jsonb[], p_categories text[], p_merchants text[], p_effective_at timestamptz[]
) RETURNS SETOF ledger_result LANGUAGE plpgsql AS $$
DECLARE
    n integer := coalesce(cardinality(p_ids), 0);
BEGIN
    IF n > __MAX_BATCH__ OR coalesce(cardinality(p_from), 0) <> n OR coalesce(cardinality(p_to), 0) <> n
       OR coalesce(cardinality(p_amounts), 0) <> n OR coalesce(cardinality(p_currencies), 0) <> n
       OR coalesce(cardinality(p_kinds), 0) <> n OR coalesce(cardinality(p_references), 0) <> n
       OR coalesce(cardinality(p_metadata), 0) <> n OR coalesce(cardinality(p_categories), 0) <> n
       OR coalesce(cardinality(p_merchants), 0) <> n OR coalesce(cardinality(p_effective_at), 0) <> n THEN
        RAISE EXCEPTION 'ledger_transfer_batch: 0 to __MAX_BATCH__ transfers, one array element each'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM 1 FROM ledger_accounts WHERE id = ANY (p_from || p_to) ORDER BY id FOR UPDATE;
    FOR i IN 1 .. n LOOP
        RETURN NEXT ledger_transfer(p_ids[i], p_from[i], p_to[i], p_amounts[i], p_currencies[i], p_kinds[i],
                                    p_references[i], p_metadata[i], p_categories[i], p_merchants[i],
                                    p_effective_at[i]);
    END LOOP;
END $$;

-- Reverses a whole transaction with a new one (id p_id): the same legs negated, same kind, category
-- and merchant (so aggregates net out), effective now. Frozen accounts accept reversals (a bank
-- correction); closed ones do not.
CREATE OR REPLACE FUNCTION ledger_reverse(p_id uuid, p_original uuid, p_reason text)
RETURNS ledger_result LANGUAGE plpgsql AS $$
DECLARE
    o ledger_transactions%ROWTYPE;
    v_other uuid;
BEGIN
    SELECT * INTO o FROM ledger_transactions WHERE id = p_original;
    IF NOT FOUND THEN
        RETURN ledger__reject('transaction_not_found', format('transaction %s does not exist', p_original));
    ELSIF o.reverses_id IS NOT NULL THEN
        RETURN ledger__reject('cannot_reverse_reversal', format('transaction %s is itself a reversal', p_original));
    END IF;
    SELECT reversal_id INTO v_other FROM ledger_reversals WHERE original_id = p_original;
    IF FOUND AND v_other <> p_id THEN  -- (checked again by ledger_post under the accounts' locks)
        RETURN ledger__reject('already_reversed', format('transaction %s is already reversed by %s', p_original, v_other));
    END IF;
    RETURN ledger_post(p_id, o.kind, o.account_ids, ARRAY(SELECT -x FROM unnest(o.amounts) WITH ORDINALITY u(x, i) ORDER BY i),
                       NULL, p_reason, '{}'::jsonb, o.category, o.merchant, NULL,
                       p_reverses => p_original, p_allow_frozen => true);
END $$;

-- Creates a pending hold: reserves p_amount of p_from for p_to until p_expires_at.
CREATE OR REPLACE FUNCTION ledger_hold_create(
    p_id uuid, p_from uuid, p_to uuid, p_amount bigint, p_currency text, p_kind text, p_reference text,
    p_metadata jsonb, p_category text, p_merchant text, p_expires_at timestamptz
) RETURNS TABLE (code text, detail text, hold jsonb) LANGUAGE plpgsql AS $$
DECLARE
    a_from ledger_accounts%ROWTYPE;
    a_to ledger_accounts%ROWTYPE;
    h ledger_holds%ROWTYPE;
    v_now timestamptz;
    v_expired bigint := 0;
    v_field text;
    v_bad ledger_result;
BEGIN
    IF p_id IS NULL THEN
        RETURN QUERY SELECT 'invalid_field', 'hold id is required', NULL::jsonb; RETURN;
    ELSIF p_amount IS NULL OR p_amount NOT BETWEEN 1 AND __MAX_AMOUNT__ THEN
        RETURN QUERY SELECT 'invalid_amount', format('amount %s is not between 1 and __MAX_AMOUNT__', p_amount), NULL::jsonb; RETURN;
    ELSIF p_from IS NULL OR p_to IS NULL THEN
        RETURN QUERY SELECT 'account_not_found', 'account id is missing', NULL::jsonb; RETURN;
    ELSIF p_from = p_to THEN
        RETURN QUERY SELECT 'same_account', 'a hold moves money between two different accounts', NULL::jsonb; RETURN;
    END IF;
    v_bad := ledger__check_fields(p_kind, p_reference, p_metadata, p_category, p_merchant);
    IF v_bad.code IS NOT NULL THEN  -- (a row IS NOT NULL only when all its fields are)
        RETURN QUERY SELECT v_bad.code, v_bad.detail, NULL::jsonb; RETURN;
    END IF;
    PERFORM 1 FROM ledger_accounts WHERE id IN (p_from, p_to) ORDER BY id FOR UPDATE;
    SELECT * INTO a_from FROM ledger_accounts WHERE id = p_from;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'account_not_found', format('account %s does not exist', p_from), NULL::jsonb; RETURN;
    END IF;
    SELECT * INTO a_to FROM ledger_accounts WHERE id = p_to;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'account_not_found', format('account %s does not exist', p_to), NULL::jsonb; RETURN;
    END IF;
    v_now := clock_timestamp();

    SELECT * INTO h FROM ledger_holds WHERE id = p_id;
    IF FOUND THEN
        v_field := CASE
            WHEN (h.from_account_id, h.to_account_id) <> (p_from, p_to) THEN 'accounts'
            WHEN h.amount <> p_amount THEN 'amount'
            WHEN h.currency IS DISTINCT FROM p_currency THEN 'currency'
            WHEN h.kind IS DISTINCT FROM p_kind THEN 'kind'
            WHEN h.expires_at <> p_expires_at THEN 'expires_at'
            WHEN h.reference IS DISTINCT FROM p_reference THEN 'reference'
            WHEN h.category IS DISTINCT FROM p_category THEN 'category'
            WHEN h.merchant IS DISTINCT FROM p_merchant THEN 'merchant'
            WHEN h.metadata IS DISTINCT FROM coalesce(p_metadata, '{}'::jsonb) THEN 'metadata'
        END;
        IF v_field IS NOT NULL THEN
            RETURN QUERY SELECT 'exists_with_different_' || v_field,
                                format('hold %s exists with a different %s', p_id, v_field), NULL::jsonb;
        ELSE
            RETURN QUERY SELECT 'ok', NULL::text, to_jsonb(h);
        END IF;
        RETURN;
    END IF;

    IF p_expires_at IS NULL OR p_expires_at <= v_now
       OR p_expires_at > v_now + make_interval(secs => __MAX_HOLD_SECONDS__) THEN
        RETURN QUERY SELECT 'invalid_expiry', 'expires_at must be in the future, at most __MAX_HOLD_SECONDS__ s ahead', NULL::jsonb; RETURN;
    ELSIF p_currency IS DISTINCT FROM a_from.currency OR p_currency IS DISTINCT FROM a_to.currency THEN
        RETURN QUERY SELECT 'currency_mismatch',
            format('accounts hold %s and %s, the hold is in %s', a_from.currency, a_to.currency, p_currency), NULL::jsonb; RETURN;
    ELSIF a_from.status = 'closed' OR a_to.status = 'closed' THEN
        RETURN QUERY SELECT 'account_closed', 'an account of the hold is closed', NULL::jsonb; RETURN;
    ELSIF a_from.status = 'frozen' OR a_to.status = 'frozen' THEN
        RETURN QUERY SELECT 'account_frozen', 'an account of the hold is frozen', NULL::jsonb; RETURN;
    ELSIF a_from.pending_out + p_amount > __MAX_BALANCE__ THEN
        RETURN QUERY SELECT 'balance_out_of_range', 'pending holds would exceed __MAX_BALANCE__', NULL::jsonb; RETURN;
    END IF;
    IF NOT a_from.allow_negative AND a_from.balance - a_from.pending_out < p_amount THEN
        v_expired := ledger__expired_pending(p_from, v_now);
        IF a_from.balance - a_from.pending_out + v_expired < p_amount THEN
            RETURN QUERY SELECT 'insufficient_funds',
                format('account %s has %s available, needs %s', p_from, a_from.balance - a_from.pending_out + v_expired, p_amount),
                NULL::jsonb;
            RETURN;
        END IF;
        PERFORM ledger__sweep_account(p_from, v_now);
    END IF;

    INSERT INTO ledger_holds (id, from_account_id, to_account_id, amount, currency, kind, reference, metadata,
                              category, merchant, created_at, expires_at)
    VALUES (p_id, p_from, p_to, p_amount, p_currency, p_kind, p_reference, coalesce(p_metadata, '{}'::jsonb),
            p_category, p_merchant, v_now, p_expires_at)
    RETURNING * INTO h;
    UPDATE ledger_accounts SET pending_out = pending_out + p_amount WHERE id = p_from;
    RETURN QUERY SELECT 'ok', NULL::text, to_jsonb(h);
END $$;

-- Posts a pending hold in full (p_amount NULL) or in part; the rest of the reservation is released.
-- Posting again with the same transaction id returns the stored transaction.
CREATE OR REPLACE FUNCTION ledger_hold_post(p_hold uuid, p_tx_id uuid, p_amount bigint)
RETURNS ledger_result LANGUAGE plpgsql AS $$
DECLARE
    h ledger_holds%ROWTYPE;
    v_now timestamptz;
    v_amt bigint;
    res ledger_result;
BEGIN
    SELECT * INTO h FROM ledger_holds WHERE id = p_hold;
    IF NOT FOUND THEN
        RETURN ledger__reject('hold_not_found', format('hold %s does not exist', p_hold));
    END IF;
    PERFORM 1 FROM ledger_accounts WHERE id IN (h.from_account_id, h.to_account_id) ORDER BY id FOR UPDATE;
    SELECT * INTO h FROM ledger_holds WHERE id = p_hold;   -- again, now that its accounts are locked
    v_now := clock_timestamp();
    IF h.status = 'posted' THEN
        IF h.transaction_id = p_tx_id THEN   -- a retry: ledger_post answers from the stored transaction
            v_amt := coalesce(p_amount, h.posted_amount);
            RETURN ledger_post(p_tx_id, h.kind, ARRAY[h.from_account_id, h.to_account_id], ARRAY[-v_amt, v_amt],
                               ARRAY[h.currency, h.currency], h.reference, h.metadata, h.category, h.merchant, NULL,
                               p_hold => p_hold);
        END IF;
        RETURN ledger__reject('hold_already_posted', format('hold %s is already posted', p_hold));
    ELSIF h.status = 'voided' THEN
        RETURN ledger__reject('hold_already_voided', format('hold %s is voided', p_hold));
    ELSIF h.status = 'expired' OR h.expires_at <= v_now THEN
        RETURN ledger__reject('hold_expired', format('hold %s expired at %s', p_hold, h.expires_at));
    END IF;
    v_amt := coalesce(p_amount, h.amount);
    IF v_amt NOT BETWEEN 1 AND __MAX_AMOUNT__ THEN
        RETURN ledger__reject('invalid_amount', format('amount %s is not between 1 and __MAX_AMOUNT__', v_amt));
    ELSIF v_amt > h.amount THEN
        RETURN ledger__reject('exceeds_hold_amount', format('hold %s reserves %s, cannot post %s', p_hold, h.amount, v_amt));
    END IF;
    res := ledger_post(p_tx_id, h.kind, ARRAY[h.from_account_id, h.to_account_id], ARRAY[-v_amt, v_amt],
                       ARRAY[h.currency, h.currency], h.reference, h.metadata, h.category, h.merchant, NULL,
                       p_hold => p_hold, p_pending => ARRAY[-h.amount, 0], p_now => v_now);
    IF res.code = 'ok' AND NOT res.existing THEN
        UPDATE ledger_holds SET status = 'posted', posted_amount = v_amt, transaction_id = p_tx_id, resolved_at = v_now
        WHERE id = p_hold;
    END IF;
    RETURN res;
END $$;

-- Voids a pending hold, releasing its reservation. Voiding a voided hold is a no-op; a hold already
-- past expiry ends as 'expired' (its reservation is released either way).
CREATE OR REPLACE FUNCTION ledger_hold_void(p_hold uuid)
RETURNS TABLE (code text, detail text, hold jsonb) LANGUAGE plpgsql AS $$
DECLARE
    h ledger_holds%ROWTYPE;
    v_now timestamptz;
BEGIN
    SELECT * INTO h FROM ledger_holds WHERE id = p_hold;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'hold_not_found', format('hold %s does not exist', p_hold), NULL::jsonb; RETURN;
    END IF;
    PERFORM 1 FROM ledger_accounts WHERE id = h.from_account_id FOR UPDATE;
    SELECT * INTO h FROM ledger_holds WHERE id = p_hold;
    v_now := clock_timestamp();
    IF h.status = 'posted' THEN
        RETURN QUERY SELECT 'hold_already_posted', format('hold %s is already posted', p_hold), NULL::jsonb; RETURN;
    ELSIF h.status = 'pending' THEN
        UPDATE ledger_holds SET status = CASE WHEN expires_at <= v_now THEN 'expired' ELSE 'voided' END,
                                resolved_at = v_now
        WHERE id = p_hold RETURNING * INTO h;
        UPDATE ledger_accounts SET pending_out = pending_out - h.amount WHERE id = h.from_account_id;
    END IF;
    RETURN QUERY SELECT 'ok', NULL::text, to_jsonb(h);
END $$;

-- Expires pending holds with expires_at <= p_now (at most p_limit of them, oldest first) and
-- releases their reservations. Returns how many holds it expired.
CREATE OR REPLACE FUNCTION ledger_holds_expire(p_now timestamptz, p_limit integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_accounts uuid[];
    v_count integer := 0;
    v_n integer;
    v_total bigint;
    r record;
BEGIN
    v_accounts := ARRAY(SELECT DISTINCT s.from_account_id FROM (
        SELECT from_account_id FROM ledger_holds WHERE status = 'pending' AND expires_at <= p_now
        ORDER BY expires_at LIMIT least(p_limit, __MAX_EXPIRE_BATCH__)) s);
    IF cardinality(v_accounts) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM 1 FROM ledger_accounts WHERE id = ANY (v_accounts) ORDER BY id FOR UPDATE;
    FOR r IN SELECT id FROM unnest(v_accounts) AS u(id) ORDER BY id LOOP
        WITH expired AS (
            UPDATE ledger_holds SET status = 'expired', resolved_at = clock_timestamp()
            WHERE from_account_id = r.id AND status = 'pending' AND expires_at <= p_now
            RETURNING amount)
        SELECT coalesce(sum(amount), 0), count(*) INTO v_total, v_n FROM expired;
        v_count := v_count + v_n;
        IF v_total > 0 THEN
            UPDATE ledger_accounts SET pending_out = pending_out - v_total WHERE id = r.id;
        END IF;
    END LOOP;
    RETURN v_count;
END $$;

-- Changes an account's status: active <-> frozen, and once to closed (only when nothing is left in it).
CREATE OR REPLACE FUNCTION ledger_set_status(p_account uuid, p_status text)
RETURNS TABLE (code text, detail text) LANGUAGE plpgsql AS $$
DECLARE
    a ledger_accounts%ROWTYPE;
    v_now timestamptz;
BEGIN
    IF p_status IS NULL OR p_status NOT IN ('active', 'frozen', 'closed') THEN
        RETURN QUERY SELECT 'invalid_status', format('status %s is not active, frozen or closed', p_status); RETURN;
    END IF;
    SELECT * INTO a FROM ledger_accounts WHERE id = p_account FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'account_not_found', format('account %s does not exist', p_account); RETURN;
    ELSIF a.status = p_status THEN
        RETURN QUERY SELECT 'ok', NULL::text; RETURN;
    ELSIF a.status = 'closed' THEN
        RETURN QUERY SELECT 'account_closed', format('account %s is closed for good', p_account); RETURN;
    END IF;
    IF p_status = 'closed' THEN
        v_now := clock_timestamp();
        IF a.balance <> 0 OR a.pending_out - ledger__expired_pending(p_account, v_now) <> 0 THEN
            RETURN QUERY SELECT 'balance_not_zero',
                format('account %s still holds %s with %s pending', p_account, a.balance, a.pending_out); RETURN;
        END IF;
        PERFORM ledger__sweep_account(p_account, v_now);
    END IF;
    UPDATE ledger_accounts SET status = p_status WHERE id = p_account;
    RETURN QUERY SELECT 'ok', NULL::text;
END $$;
