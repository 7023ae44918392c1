"""The sandbox's durable record in PostgreSQL: objects (effects), jobs, webhooks, clock and faults."""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

SCHEMA_DDL = """
CREATE SCHEMA IF NOT EXISTS sandbox;
CREATE TABLE IF NOT EXISTS sandbox.objects (
    seq bigserial,
    id text PRIMARY KEY,
    provider text NOT NULL,
    collection text NOT NULL,
    kind text NOT NULL,
    idempotency_key text,
    request_hash text,
    is_effect boolean NOT NULL DEFAULT true,
    status text NOT NULL,
    reason_code text,
    amount_minor bigint,
    currency text,
    data jsonb NOT NULL,
    private jsonb NOT NULL DEFAULT '{}',
    webhook_faults text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (provider, collection, idempotency_key)
);
CREATE TABLE IF NOT EXISTS sandbox.jobs (
    id bigserial PRIMARY KEY,
    object_id text NOT NULL,
    action text NOT NULL,
    due_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_due ON sandbox.jobs (due_at);
CREATE INDEX IF NOT EXISTS jobs_object ON sandbox.jobs (object_id);
CREATE TABLE IF NOT EXISTS sandbox.webhooks (
    id bigserial PRIMARY KEY,
    event_id text NOT NULL,
    provider text NOT NULL,
    type text NOT NULL,
    object_id text,
    body text NOT NULL,
    fault text,
    state text NOT NULL DEFAULT 'pending',
    held boolean NOT NULL DEFAULT false,
    bad_signature boolean NOT NULL DEFAULT false,
    attempts integer NOT NULL DEFAULT 0,
    due_at timestamptz NOT NULL,
    lease_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS webhooks_due ON sandbox.webhooks (due_at) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS sandbox.webhook_attempts (
    id bigserial PRIMARY KEY,
    webhook_id bigint NOT NULL,
    event_id text NOT NULL,
    provider text NOT NULL,
    type text NOT NULL,
    object_id text,
    attempt integer NOT NULL,
    fault text,
    signature text NOT NULL,
    status_code integer,
    error text,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS sandbox.clock (
    id integer PRIMARY KEY CHECK (id = 1),
    offset_seconds double precision NOT NULL
);
CREATE TABLE IF NOT EXISTS sandbox.faults (
    id integer PRIMARY KEY CHECK (id = 1),
    config jsonb NOT NULL
);
-- What the core asked the messaging channels' APIs to send (sandbox/channels.py), oldest first per recipient.
CREATE TABLE IF NOT EXISTS sandbox.channel_messages (
    id bigserial PRIMARY KEY,
    channel text NOT NULL,
    method text NOT NULL,
    recipient text NOT NULL,
    text text NOT NULL DEFAULT '',
    buttons jsonb NOT NULL DEFAULT '[]',
    request jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS channel_messages_recipient ON sandbox.channel_messages (channel, recipient, id);
INSERT INTO sandbox.clock (id, offset_seconds) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
"""
RESET_SQL = """
TRUNCATE sandbox.objects, sandbox.jobs, sandbox.webhooks, sandbox.webhook_attempts, sandbox.faults,
    sandbox.channel_messages;
UPDATE sandbox.clock SET offset_seconds = 0;
"""
_SCHEMA_LOCK = 0x5A4D_B0C5  # advisory lock: two processes starting at once must not race on CREATE


def with_database(url: str, name: str) -> str:
    """The same server URL, pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def ensure_database(url: str) -> None:
    """Create the sandbox's database if it does not exist, then its tables."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # a concurrent start made it
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        conn.execute(SCHEMA_DDL)
        conn.commit()


def make_pool(url: str) -> AsyncConnectionPool:
    """An unopened pool of autocommit dict-row connections."""
    async def configure(conn: psycopg.AsyncConnection) -> None:
        conn.row_factory = dict_row  # type: ignore[assignment]
        await conn.set_autocommit(True)

    return AsyncConnectionPool(url, min_size=1, max_size=8, open=False, configure=configure, timeout=10)


def new_id(prefix: str) -> str:
    """An object id like `ct_3f2a...`."""
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def request_hash(body: Any) -> str:
    """A digest of a request body that ignores key order and whitespace."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with a Z, microseconds kept."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Obj:
    """One row of sandbox.objects."""

    id: str
    provider: str
    collection: str
    kind: str
    idempotency_key: str | None
    request_hash: str | None
    status: str
    reason_code: str | None
    amount_minor: int | None
    currency: str | None
    data: dict[str, Any]
    private: dict[str, Any]
    webhook_faults: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Obj:
        """From a dict row."""
        return cls(**{f: row[f] for f in cls.__dataclass_fields__})


_OBJ_COLS = ("id, provider, collection, kind, idempotency_key, request_hash, status, reason_code, amount_minor, "
             "currency, data, private, webhook_faults, created_at, updated_at")


async def get_object(conn: psycopg.AsyncConnection, object_id: str, *, provider: str | None = None,
                     collection: str | None = None, lock: bool = False) -> Obj | None:
    """One object by id (optionally of a provider and collection), locked for update if asked."""
    query = f"SELECT {_OBJ_COLS} FROM sandbox.objects WHERE id = %s"  # noqa: S608 - constant columns
    params: list[Any] = [object_id]
    if provider is not None:
        query += " AND provider = %s"
        params.append(provider)
    if collection is not None:
        query += " AND collection = %s"
        params.append(collection)
    if lock:
        query += " FOR UPDATE"
    row = await (await conn.execute(query, params)).fetchone()
    return Obj.from_row(row) if row else None  # type: ignore[arg-type]


async def find_by_key(conn: psycopg.AsyncConnection, provider: str, collection: str, key: str) -> Obj | None:
    """The object created under an idempotency key, if any."""
    row = await (await conn.execute(
        f"SELECT {_OBJ_COLS} FROM sandbox.objects "  # noqa: S608 - constant columns
        "WHERE provider = %s AND collection = %s AND idempotency_key = %s", (provider, collection, key))).fetchone()
    return Obj.from_row(row) if row else None  # type: ignore[arg-type]


async def insert_object(conn: psycopg.AsyncConnection, obj: Obj, *, is_effect: bool = True) -> bool:
    """Insert unless the idempotency key is taken (then False: another call created it first)."""
    cur = await conn.execute(
        "INSERT INTO sandbox.objects (id, provider, collection, kind, idempotency_key, request_hash, is_effect, "
        "status, reason_code, amount_minor, currency, data, private, webhook_faults, created_at, updated_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (provider, collection, idempotency_key) DO NOTHING RETURNING id",
        (obj.id, obj.provider, obj.collection, obj.kind, obj.idempotency_key, obj.request_hash, is_effect,
         obj.status, obj.reason_code, obj.amount_minor, obj.currency, Jsonb(obj.data), Jsonb(obj.private),
         obj.webhook_faults, obj.created_at, obj.updated_at))
    return await cur.fetchone() is not None


async def save_object(conn: psycopg.AsyncConnection, obj: Obj) -> None:
    """Write back an object's status, reason and data."""
    await conn.execute(
        "UPDATE sandbox.objects SET status = %s, reason_code = %s, data = %s, updated_at = %s WHERE id = %s",
        (obj.status, obj.reason_code, Jsonb(obj.data), obj.updated_at, obj.id))


async def schedule(conn: psycopg.AsyncConnection, object_id: str, action: str, due_at: datetime) -> None:
    """A job: `action` on the object once virtual time reaches `due_at`."""
    await conn.execute("INSERT INTO sandbox.jobs (object_id, action, due_at) VALUES (%s, %s, %s)",
                       (object_id, action, due_at))
