-- Ledger schema. Applied by migrations/versions/0001_ledger.py through ledger.schema.install().
-- Tokens like __MAX_AMOUNT__ are replaced with the constants of ledger/limits.py before execution,
-- so Python and SQL enforce the same bounds.
--
-- Portability: only plain tables, B-tree (partial, covering) indexes, CHECK constraints, one composite
-- type and PL/pgSQL; no sequences, no advisory locks, no deferred constraints, no triggers on the hot
-- path (the immutability triggers below fire only on UPDATE/DELETE/TRUNCATE). See docs/scaling.md.

CREATE TABLE ledger_accounts (
    id              uuid        PRIMARY KEY,
    owner_id        text        NULL CHECK (length(owner_id) BETWEEN 1 AND __MAX_OWNER_ID_LEN__),
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND __MAX_NAME_LEN__),
    kind            text        NOT NULL CHECK (length(kind) BETWEEN 1 AND __MAX_KIND_LEN__),
    currency        text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status          text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'frozen', 'closed')),
    allow_negative  boolean     NOT NULL DEFAULT false,
    -- Cached figures, maintained only by the ledger_* functions and checked by reconciliation:
    -- balance = sum of the account's entries, version = number of its entries,
    -- pending_out = sum of its pending holds (available = balance - pending_out).
    balance         bigint      NOT NULL DEFAULT 0 CHECK (balance BETWEEN -__MAX_BALANCE__ AND __MAX_BALANCE__),
    pending_out     bigint      NOT NULL DEFAULT 0 CHECK (pending_out BETWEEN 0 AND __MAX_BALANCE__),
    version         bigint      NOT NULL DEFAULT 0 CHECK (version >= 0),
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Last line of defence: even a bug in the functions cannot overdraw a non-negative account.
    CONSTRAINT ledger_accounts_available_non_negative CHECK (allow_negative OR balance >= pending_out)
) WITH (fillfactor = 50);  -- room on each page for HOT updates of the balance (no index touches)

CREATE INDEX ledger_accounts_owner ON ledger_accounts (owner_id, created_at) WHERE owner_id IS NOT NULL;

CREATE TABLE ledger_transactions (
    id            uuid        PRIMARY KEY,                 -- client-supplied: the idempotency key
    kind          text        NOT NULL CHECK (length(kind) BETWEEN 1 AND __MAX_KIND_LEN__),
    reference     text        NULL CHECK (length(reference) <= __MAX_REFERENCE_LEN__),
    metadata      jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'
                                                           AND octet_length(metadata::text) <= __MAX_METADATA_BYTES__),
    category      text        NULL CHECK (length(category) BETWEEN 1 AND __MAX_CATEGORY_LEN__),
    merchant      text        NULL CHECK (length(merchant) BETWEEN 1 AND __MAX_MERCHANT_LEN__),
    -- The legs as posted (account i moved by amount i), kept so that an idempotent retry or a reversal
    -- reads one row instead of searching entries; reconciliation checks they agree with the entries.
    account_ids   uuid[]      NOT NULL CHECK (cardinality(account_ids) BETWEEN 2 AND __MAX_ENTRIES__),
    amounts       bigint[]    NOT NULL CHECK (cardinality(amounts) = cardinality(account_ids)),
    created_at    timestamptz NOT NULL,                    -- when it was posted (after the account locks)
    effective_at  timestamptz NOT NULL CHECK (effective_at <= created_at),  -- business time, may be back-dated
    reverses_id   uuid        NULL,                        -- set on a reversal: the transaction it undoes
    hold_id       uuid        NULL                         -- set when this transaction posts a hold
);

-- A transaction is reversed at most once.
CREATE UNIQUE INDEX ledger_transactions_reverses ON ledger_transactions (reverses_id) WHERE reverses_id IS NOT NULL;

CREATE TABLE ledger_entries (
    account_id      uuid        NOT NULL,
    version         bigint      NOT NULL CHECK (version >= 1),   -- the account's version after this entry
    transaction_id  uuid        NOT NULL,
    amount          bigint      NOT NULL CHECK (amount <> 0 AND amount BETWEEN -__MAX_AMOUNT__ AND __MAX_AMOUNT__),
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
    PRIMARY KEY (account_id, version)
);

-- Statements (keyset pages by effective_at), as_of balances and spending aggregates: one range of one
-- account, answered from the index alone (covering columns) once the visibility map is set by VACUUM.
CREATE INDEX ledger_entries_account_time ON ledger_entries (account_id, effective_at, version)
    INCLUDE (amount, kind, category, merchant);

-- "Was this entry reversed?" for statement rows, without leaving the account.
CREATE INDEX ledger_entries_account_reversals ON ledger_entries (account_id, reverses_id)
    WHERE reverses_id IS NOT NULL;

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
