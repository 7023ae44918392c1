-- Ledger schema. Applied by migrations/versions/0001_ledger.py through ledger.schema.install().
-- Tokens like __MAX_AMOUNT__ are replaced with the constants of ledger/limits.py before execution,
-- so Python and SQL enforce the same bounds.
--
-- Portability: only plain tables, B-tree (partial, covering) indexes, CHECK constraints, one composite
-- type and PL/pgSQL; no sequences, no advisory locks, no deferred constraints, no triggers on the hot
-- path (the triggers below fire on UPDATE/DELETE/TRUNCATE of entries and transactions, on account
-- creation and status changes, never on a posting's writes). See docs/scaling.md.
--
-- Cost note: PostgreSQL prepares a table's CHECK expressions again for every INSERT or UPDATE statement,
-- which costs 10-20 us per statement on the posting path (measured: docs/benchmarks.md). So each table
-- that a posting writes has ONE combined CHECK, and the account's descriptive columns, which a posting
-- never changes, are validated by a trigger that fires only when they are written.

CREATE TABLE ledger_accounts (
    id              uuid        PRIMARY KEY,
    owner_id        text        NULL,                       -- validated by ledger_accounts_validate
    name            text        NOT NULL,
    kind            text        NOT NULL,                   -- free text: checking, savings, fx, ...
    currency        text        NOT NULL,                   -- ISO 4217, never changes
    status          text        NOT NULL DEFAULT 'active',  -- active | frozen | closed
    allow_negative  boolean     NOT NULL DEFAULT false,     -- never changes
    -- Cached figures, maintained only by the ledger_* functions and checked by reconciliation:
    -- balance = sum of the account's entries, version = number of its entries,
    -- pending_out = sum of its pending holds (available = balance - pending_out).
    balance         bigint      NOT NULL DEFAULT 0,
    pending_out     bigint      NOT NULL DEFAULT 0,
    version         bigint      NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Last line of defence: even a bug in the functions cannot overdraw a non-negative account.
    CONSTRAINT ledger_accounts_figures CHECK (
        balance BETWEEN -__MAX_BALANCE__ AND __MAX_BALANCE__ AND pending_out BETWEEN 0 AND __MAX_BALANCE__
        AND version >= 0 AND (allow_negative OR balance >= pending_out))
) WITH (fillfactor = 50,  -- room on each page for HOT updates of the balance (no index touches)
      autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);  -- small, hot table

-- The descriptive columns: checked when written (account creation, status change), never on postings.
CREATE FUNCTION ledger_accounts_validate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.owner_id IS NOT NULL AND length(NEW.owner_id) NOT BETWEEN 1 AND __MAX_OWNER_ID_LEN__
       OR length(NEW.name) NOT BETWEEN 1 AND __MAX_NAME_LEN__ OR length(NEW.kind) NOT BETWEEN 1 AND __MAX_KIND_LEN__
       OR NEW.currency !~ '^[A-Z]{3}$' OR NEW.status NOT IN ('active', 'frozen', 'closed') THEN
        RAISE EXCEPTION 'ledger: invalid account %', NEW.id USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.id, NEW.owner_id, NEW.currency, NEW.allow_negative, NEW.created_at)
                            IS DISTINCT FROM (OLD.id, OLD.owner_id, OLD.currency, OLD.allow_negative, OLD.created_at) THEN
        RAISE EXCEPTION 'ledger: account % keeps its owner, currency and overdraft flag', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_accounts_validate
    BEFORE INSERT OR UPDATE OF id, owner_id, name, kind, currency, status, allow_negative, created_at
    ON ledger_accounts FOR EACH ROW EXECUTE FUNCTION ledger_accounts_validate();

CREATE INDEX ledger_accounts_owner ON ledger_accounts (owner_id, created_at);

CREATE TABLE ledger_transactions (
    id            uuid        PRIMARY KEY,                 -- client-supplied: the idempotency key
    kind          text        NOT NULL,
    reference     text        NULL,
    metadata      jsonb       NOT NULL DEFAULT '{}',       -- a JSON object
    category      text        NULL,
    merchant      text        NULL,
    -- The legs as posted (account i moved by amount i), kept so that an idempotent retry or a reversal
    -- reads one row instead of searching entries; reconciliation checks they agree with the entries.
    account_ids   uuid[]      NOT NULL,
    amounts       bigint[]    NOT NULL,
    created_at    timestamptz NOT NULL,                    -- when it was posted (after the account locks)
    effective_at  timestamptz NOT NULL,                    -- business time, may be back-dated, never ahead
    reverses_id   uuid        NULL,                        -- set on a reversal: the transaction it undoes
    hold_id       uuid        NULL,                        -- set when this transaction posts a hold
    CONSTRAINT ledger_transactions_valid CHECK (
        length(kind) BETWEEN 1 AND __MAX_KIND_LEN__ AND coalesce(length(reference), 0) <= __MAX_REFERENCE_LEN__
        AND coalesce(length(category), 1) BETWEEN 1 AND __MAX_CATEGORY_LEN__
        AND coalesce(length(merchant), 1) BETWEEN 1 AND __MAX_MERCHANT_LEN__
        AND jsonb_typeof(metadata) = 'object' AND octet_length(metadata::text) <= __MAX_METADATA_BYTES__
        AND cardinality(account_ids) BETWEEN 2 AND __MAX_ENTRIES__ AND cardinality(amounts) = cardinality(account_ids)
        AND effective_at <= created_at)
);

-- A transaction is reversed at most once: one row per reversed transaction, written by the reversal.
-- (A separate table rather than a unique partial index on reverses_id: no index predicate to evaluate
-- on every posting, and keyed by the original's id, which stays a single-shard key when distributed.)
CREATE TABLE ledger_reversals (
    original_id  uuid        PRIMARY KEY,
    reversal_id  uuid        NOT NULL,
    created_at   timestamptz NOT NULL
);

CREATE TABLE ledger_entries (
    account_id      uuid        NOT NULL,
    version         bigint      NOT NULL,                        -- the account's version after this entry
    transaction_id  uuid        NOT NULL,
    amount          bigint      NOT NULL,                        -- signed, non-zero
    balance_after   bigint      NOT NULL,                        -- the account's posted balance after it
    currency        text        NOT NULL,
    -- Copied from the transaction (both are immutable, so the copies can never disagree): statements,
    -- spending aggregates and as_of balances read one account's entries and nothing else, which keeps
    -- them single-shard when entries are distributed by account_id (docs/scaling.md).
    kind            text        NOT NULL,
    category        text        NULL,
    merchant        text        NULL,
    reference       text        NULL,
    effective_at    timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    reverses_id     uuid        NULL,
    PRIMARY KEY (account_id, version),
    CONSTRAINT ledger_entries_valid CHECK (
        version >= 1 AND amount <> 0 AND amount BETWEEN -__MAX_AMOUNT__ AND __MAX_AMOUNT__
        AND effective_at <= created_at)
);

-- Statements (keyset pages by effective_at), as_of balances and spending aggregates: one range of one
-- account, answered from the index alone (covering columns) once the visibility map is set by VACUUM.
CREATE INDEX ledger_entries_account_time ON ledger_entries (account_id, effective_at, version)
    INCLUDE (amount, kind, category, merchant);

CREATE TABLE ledger_holds (
    id              uuid        PRIMARY KEY,               -- client-supplied, idempotent like transactions
    from_account_id uuid        NOT NULL,
    to_account_id   uuid        NOT NULL,
    amount          bigint      NOT NULL CHECK (amount BETWEEN 1 AND __MAX_AMOUNT__),
    currency        text        NOT NULL,
    kind            text        NOT NULL CHECK (length(kind) BETWEEN 1 AND __MAX_KIND_LEN__),
    reference       text        NULL CHECK (length(reference) <= __MAX_REFERENCE_LEN__),
    metadata        jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'
                                                             AND octet_length(metadata::text) <= __MAX_METADATA_BYTES__),
    category        text        NULL CHECK (length(category) BETWEEN 1 AND __MAX_CATEGORY_LEN__),
    merchant        text        NULL CHECK (length(merchant) BETWEEN 1 AND __MAX_MERCHANT_LEN__),
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL CHECK (expires_at > created_at),
    -- The one mutable part of the ledger: a single transition pending -> posted | voided | expired,
    -- enforced by ledger_holds_guard below. Money itself only moves through immutable entries.
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
    posted_amount   bigint      NULL,
    transaction_id  uuid        NULL,
    resolved_at     timestamptz NULL,
    CHECK (from_account_id <> to_account_id),
    CHECK ((status = 'pending') = (resolved_at IS NULL)),
    CHECK ((status = 'posted') = (transaction_id IS NOT NULL AND posted_amount BETWEEN 1 AND amount))
);

-- Pending holds of an account (available balance, expiry of one account's holds) and the sweeper.
CREATE INDEX ledger_holds_pending_by_account ON ledger_holds (from_account_id, expires_at) WHERE status = 'pending';
CREATE INDEX ledger_holds_pending_by_expiry ON ledger_holds (expires_at) WHERE status = 'pending';

-- What every write function returns. Business rejections are a code here, never an exception, so a
-- rejected posting leaves nothing behind and does not abort the caller's database transaction.
CREATE TYPE ledger_result AS (
    code          text,          -- 'ok' or an error code (ledger/errors.py)
    detail        text,          -- human-readable reason
    created_at    timestamptz,
    effective_at  timestamptz,
    existing      boolean,       -- true when an identical transaction with this id already existed
    balances      bigint[],      -- posted balance of each leg's account after the transaction
    versions      bigint[],      -- version of each leg's account after the transaction
    currencies    text[]         -- currency of each leg's account
);

-- Immutability: entries and transactions are never updated or deleted; accounts are never deleted.
CREATE FUNCTION ledger_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger: % on % is not allowed (the ledger is append-only)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_forbid_change();
CREATE TRIGGER ledger_transactions_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_forbid_change();
CREATE TRIGGER ledger_reversals_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_reversals
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_forbid_change();
CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE OR TRUNCATE ON ledger_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_forbid_change();
CREATE TRIGGER ledger_holds_no_delete BEFORE DELETE OR TRUNCATE ON ledger_holds
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_forbid_change();

-- A hold changes once, from pending to a final state, and nothing but its resolution changes.
CREATE FUNCTION ledger_holds_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'pending' OR NEW.status = 'pending'
       OR (NEW.id, NEW.from_account_id, NEW.to_account_id, NEW.amount, NEW.currency, NEW.kind, NEW.reference,
           NEW.metadata, NEW.category, NEW.merchant, NEW.created_at, NEW.expires_at)
          IS DISTINCT FROM
          (OLD.id, OLD.from_account_id, OLD.to_account_id, OLD.amount, OLD.currency, OLD.kind, OLD.reference,
           OLD.metadata, OLD.category, OLD.merchant, OLD.created_at, OLD.expires_at) THEN
        RAISE EXCEPTION 'ledger: hold % may only change once, from pending to a final state', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_holds_one_transition BEFORE UPDATE ON ledger_holds
    FOR EACH ROW EXECUTE FUNCTION ledger_holds_guard();
