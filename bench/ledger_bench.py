"""Ledger benchmark: pgbench tpcb-like, then the ledger's transfer workload, on the same PostgreSQL.

    python -m bench.ledger_bench                  # what `make bench-ledger` runs (about 90 s)
    python -m bench.ledger_bench --only spending  # read paths on a year of data for many accounts

1. pgbench tpcb-like: scale 10, 16 clients, 20 s, in a throwaway database (dropped afterwards).
2. The ledger: 16 concurrent workers (one asyncio process, one connection each, autocommit) post
   transfers through ledger.aio.post_transfer for 20 s among 1,000 accounts, then among 10 (hot).
   Each transfer is one round trip: one call of ledger_post(), committed on its own.
3. Cost breakdown: the same posting's parts timed inside PostgreSQL (no round trip, no commit), and a
   single client's round trip for a no-op, a bare double-entry function and ledger_post.

Prints transfers/s and p50/p99 latency for each run, and last the line
    ledger_tps=... pgbench_tps=... ledger_vs_pgbench=... hot_vs_cold=...
Machine load (1-minute load average) is printed beside each figure: other jobs depress them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

import ledger
from bench import api_bench
from ledger import aio
from tests.dbutil import temporary_database, with_database

CLIENTS = 16
SECONDS = 20.0
PGBENCH_SCALE = 10
COLD_ACCOUNTS = 1_000
HOT_ACCOUNTS = 10
MAX_TRANSFER = 1_000
FUNDING = 10**12
BATCHER_CONNECTIONS = 4


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load1={one:.2f} load5={five:.2f}{commit_latency()}"


_PROBE_URL: list[str] = []  # set by transfers_main: where commit_latency() writes


def commit_latency(samples: int = 25) -> str:
    """p50 of a tiny committed write: the WAL flush every transaction waits for, which moves a lot on a
    shared virtual disk. Printed beside each figure with the load."""
    if not _PROBE_URL:
        return ""
    timings = []
    with psycopg.connect(_PROBE_URL[0], autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (at timestamptz)")
        for _ in range(samples):
            started = time.perf_counter()
            conn.execute("INSERT INTO bench_commit_probe VALUES (now())")
            timings.append(time.perf_counter() - started)
    timings.sort()
    return f" commit={timings[len(timings) // 2] * 1000:.1f}ms"


def percentile(sorted_values: Sequence[float], q: float) -> float:
    assert sorted_values, "no samples"
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


@dataclass(frozen=True)
class RunResult:
    name: str
    count: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    load: str

    @property
    def tps(self) -> float:
        return self.count / self.seconds

    def line(self) -> str:
        return (f"{self.name:<28} {self.tps:>9.0f} transfers/s  p50={self.p50_ms:6.2f} ms  p99={self.p99_ms:6.2f} ms"
                f"  n={self.count} errors={self.errors}  ({self.load})")


# --- pgbench -----------------------------------------------------------------------------------
def libpq_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    env = dict(os.environ)
    env.update(PGHOST=parts.hostname or "127.0.0.1", PGPORT=str(parts.port or 5432),
               PGUSER=unquote(parts.username or "postgres"))
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return env


@contextlib.contextmanager
def scratch_database(base_url: str, prefix: str) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = with_database(base_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def run_pgbench(base_url: str, clients: int, seconds: float) -> RunResult:
    pgbench = shutil.which("pgbench") or "/usr/bin/pgbench"
    env = libpq_env(base_url)
    with scratch_database(base_url, "bankbot_bench_pgbench") as db, tempfile.TemporaryDirectory() as logs:
        subprocess.run([pgbench, "-i", "-q", "-s", str(PGBENCH_SCALE), db], env=env, check=True,
                       capture_output=True, text=True)
        before = load()
        out = subprocess.run([pgbench, "-b", "tpcb-like", "-c", str(clients), "-T", str(int(seconds)), "-l",
                              "--log-prefix", str(Path(logs) / "pgbench"), db],
                             env=env, check=True, capture_output=True, text=True).stdout
        match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
        assert match, out
        failed = re.search(r"number of failed transactions: (\d+)", out)
        latencies = sorted(int(line.split()[2]) / 1000.0
                           for path in Path(logs).glob("pgbench*") for line in path.read_text().splitlines())
        tps = float(match.group(1))
        return RunResult("pgbench tpcb-like", len(latencies), len(latencies) / tps, percentile(latencies, 0.50),
                         percentile(latencies, 0.99), int(failed.group(1)) if failed else 0, f"{before}, {load()}")


# --- the ledger workload -----------------------------------------------------------------------
def open_funded_accounts(conn: psycopg.Connection, n: int, label: str) -> list[uuid.UUID]:
    bank = ledger.open_account(conn, owner_id=None, name=f"bench bank {label}", kind="bank_funding",
                               currency="EUR", allow_negative=True).id
    ids = [ledger.open_account(conn, owner_id=f"bench-{label}-{i}", name="bench", kind="checking",
                               currency="EUR").id for i in range(n)]
    per_tx = ledger.limits.MAX_ENTRIES - 1
    for start in range(0, n, per_tx):
        chunk = ids[start:start + per_tx]
        ledger.post_transaction(conn, transaction_id=ledger.new_id(), kind="deposit",
                                legs=[ledger.Leg(bank, -FUNDING * len(chunk)),
                                      *(ledger.Leg(a, FUNDING) for a in chunk)])
    return ids


async def transfer_worker(url: str, accounts: list[uuid.UUID], deadline: float, warmup_until: float,
                          latencies: list[float], errors: list[BaseException], seed: int,
                          batcher: aio.TransferBatcher | None, posted: list[int]) -> None:
    rng = random.Random(seed)
    async with contextlib.AsyncExitStack() as stack:
        if batcher is None:
            conn = await stack.enter_async_context(await psycopg.AsyncConnection.connect(url, autocommit=True))
        while (now := time.perf_counter()) < deadline:
            src, dst = rng.sample(accounts, 2)
            started = time.perf_counter()
            transfer = {"transaction_id": ledger.new_id(), "from_account_id": src, "to_account_id": dst,
                        "amount": rng.randint(1, MAX_TRANSFER), "currency": "EUR"}
            try:
                if batcher is None:
                    await aio.post_transfer(conn, **transfer)
                else:
                    await batcher.post_transfer(**transfer)
            except Exception as exc:  # counted and reported: the run must show errors=0
                errors.append(exc)
                continue
            posted[0] += 1
            if now >= warmup_until:
                latencies.append(time.perf_counter() - started)


async def run_transfers(url: str, accounts: list[uuid.UUID], clients: int, seconds: float, name: str,
                        warmup: float = 1.0, batched: bool = False) -> RunResult:
    latencies: list[float] = []
    errors: list[BaseException] = []
    with psycopg.connect(url, autocommit=True) as conn:
        # The server may run without autovacuum: clean the previous run's dead account versions, as
        # autovacuum would, so each run starts from the same state.
        conn.execute("VACUUM ledger_accounts")
    before = load()
    async with contextlib.AsyncExitStack() as stack:
        batcher = None
        if batched:
            batcher = await stack.enter_async_context(aio.TransferBatcher(url, connections=BATCHER_CONNECTIONS))
        start = time.perf_counter()
        deadline = start + warmup + seconds
        posted = [0]
        await asyncio.gather(*(transfer_worker(url, accounts, deadline, start + warmup, latencies, errors, seed,
                                               batcher, posted) for seed in range(clients)))
        if batcher is not None:
            name += f" (batches of {batcher.transfers / max(batcher.batches, 1):.1f})"
    measured = time.perf_counter() - (start + warmup)
    if errors:
        print(f"  {name}: {len(errors)} errors, first: {errors[0]!r}", file=sys.stderr)
    latencies.sort()
    return RunResult(name, len(latencies), measured, percentile(latencies, 0.5) * 1000,
                     percentile(latencies, 0.99) * 1000, len(errors), f"{before}, {load()}")


# --- what each part costs ----------------------------------------------------------------------
BARE_FUNCTION = """
CREATE TABLE bench_bare_accounts (id uuid PRIMARY KEY, balance bigint NOT NULL, version bigint NOT NULL)
    WITH (fillfactor = 50);
INSERT INTO bench_bare_accounts SELECT id, balance, version FROM ledger_accounts;
CREATE TABLE bench_bare_entries (account_id uuid, version bigint, transaction_id uuid, amount bigint,
                                 balance_after bigint, PRIMARY KEY (account_id, version));
CREATE TABLE bench_bare_transactions (id uuid PRIMARY KEY, created_at timestamptz);
-- The reference point of the issue: a bare double-entry transfer (no idempotency, holds, status,
-- currency or limit checks), still with running balances and versions.
CREATE FUNCTION bench_bare_transfer(p_id uuid, p_from uuid, p_to uuid, p_amount bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE b1 bigint; v1 bigint; b2 bigint; v2 bigint;
BEGIN
    PERFORM 1 FROM bench_bare_accounts WHERE id IN (p_from, p_to) ORDER BY id FOR UPDATE;
    INSERT INTO bench_bare_transactions VALUES (p_id, clock_timestamp());
    UPDATE bench_bare_accounts SET balance = balance - p_amount, version = version + 1 WHERE id = p_from
        RETURNING balance, version INTO b1, v1;
    UPDATE bench_bare_accounts SET balance = balance + p_amount, version = version + 1 WHERE id = p_to
        RETURNING balance, version INTO b2, v2;
    INSERT INTO bench_bare_entries VALUES (p_from, v1, p_id, -p_amount, b1), (p_to, v2, p_id, p_amount, b2);
    RETURN b1;
END $$;
"""

# The parts of a posting, each repeated in a PL/pgSQL loop that commits after every iteration (with
# synchronous_commit off: CPU, not the disk). Parts that write fake rows write into copies of the
# ledger's tables (same columns, constraints, indexes), so the ledger itself stays consistent.
COPIES = """
CREATE TABLE bench_copy_accounts (LIKE ledger_accounts INCLUDING ALL) WITH (fillfactor = 50);
INSERT INTO bench_copy_accounts SELECT * FROM ledger_accounts;
CREATE TABLE bench_copy_transactions (LIKE ledger_transactions INCLUDING ALL);
CREATE TABLE bench_copy_entries (LIKE ledger_entries INCLUDING ALL);
"""
PARTS: tuple[tuple[str, str], ...] = (
    ("loop and commit only", "PERFORM 1;"),
    ("lock 2 accounts (2 x SELECT ... FOR UPDATE)",
     "PERFORM 1 FROM bench_copy_accounts WHERE id = a FOR UPDATE;"
     " PERFORM 1 FROM bench_copy_accounts WHERE id = b FOR UPDATE;"),
    ("idempotency probe (PK lookup, miss)",
     "x := gen_random_uuid(); PERFORM 1 FROM ledger_transactions WHERE id = x;"),
    ("field and metadata checks (a function call)",
     "PERFORM ledger__check_fields('transfer', NULL, NULL, NULL, NULL);"),
    ("insert the transaction row (primary key)",
     "INSERT INTO bench_copy_transactions (id, kind, metadata, account_ids, amounts, created_at, effective_at) "
     "VALUES (gen_random_uuid(), 'transfer', '{}', ARRAY[a, b], ARRAY[-1, 1]::bigint[], now(), now());"),
    ("update 2 balances", "UPDATE bench_copy_accounts SET balance = balance + 1, version = version + 1 WHERE id = a;"
                          " UPDATE bench_copy_accounts SET balance = balance + 1, version = version + 1 WHERE id = b;"),
    ("insert 2 entries (primary key + covering index)",
     "INSERT INTO bench_copy_entries (account_id, version, transaction_id, amount, balance_after, currency, kind, "
     "effective_at, created_at) VALUES (a, i, gen_random_uuid(), -1, 0, 'EUR', 'transfer', now(), now()),"
     " (b, i, gen_random_uuid(), 1, 0, 'EUR', 'transfer', now(), now());"),
    ("bare double-entry function (own narrow tables, no checks)",
     "PERFORM bench_bare_transfer(gen_random_uuid(), a, b, 1);"),
    ("ledger_transfer (the hot path, everything)",
     "PERFORM ledger_transfer(gen_random_uuid(), a, b, 1, 'EUR', 'transfer', NULL, NULL, NULL, NULL, NULL);"),
    ("ledger_post (the generic N-leg function, same transfer)",
     "PERFORM ledger_post(gen_random_uuid(), 'transfer', ARRAY[a, b], ARRAY[-1, 1]::bigint[], "
     "ARRAY['EUR', 'EUR'], NULL, NULL, NULL, NULL, NULL);"),
)


def server_side_costs(conn: psycopg.Connection, accounts: list[uuid.UUID], iterations: int = 2_000) -> list[str]:
    conn.execute(COPIES)
    conn.execute("SET synchronous_commit = off")  # this session only: measure CPU, not the disk
    lines = []
    pairs = len(accounts) // 2
    literal = "'{" + ",".join(map(str, accounts[: 2 * pairs])) + "}'::uuid[]"
    for label, body in PARTS:
        block = f"""
            DO $bench$
            DECLARE ids uuid[] := {literal}; a uuid; b uuid; x uuid; t0 timestamptz; i int;
            BEGIN
                t0 := clock_timestamp();
                FOR i IN 1 .. {iterations} LOOP
                    a := ids[1 + 2 * (i % {pairs})]; b := ids[2 + 2 * (i % {pairs})];
                    {body}
                    COMMIT;
                END LOOP;
                RAISE NOTICE 'elapsed_us=%', extract(epoch FROM clock_timestamp() - t0) * 1e6;
            END $bench$"""
        notices: list[str] = []

        def on_notice(diag: psycopg.errors.Diagnostic, notices: list[str] = notices) -> None:
            notices.append(diag.message_primary or "")

        conn.add_notice_handler(on_notice)
        try:
            conn.execute(block)
        finally:
            conn.remove_notice_handler(on_notice)
        elapsed = float(notices[-1].split("=")[1])
        lines.append(f"  {label:<58} {elapsed / iterations:7.1f} us")
    conn.execute("RESET synchronous_commit")
    return lines


def client_round_trips(url: str, accounts: list[uuid.UUID], n: int = 1_000) -> list[str]:
    rng = random.Random(3)
    lines = []
    with psycopg.connect(url, autocommit=True) as conn:
        calls = (
            ("SELECT 1 (round trip, no commit work)", lambda: conn.execute("SELECT 1").fetchone()),
            ("bare double-entry function, committed",
             lambda: conn.execute("SELECT bench_bare_transfer(%s, %s, %s, 1)",
                                  (uuid.uuid4(), *rng.sample(accounts, 2))).fetchone()),
            ("ledger.post_transfer (Python + ledger_post), committed",
             lambda: ledger.post_transfer(conn, transaction_id=ledger.new_id(),
                                          **dict(zip(("from_account_id", "to_account_id"), rng.sample(accounts, 2),
                                                     strict=True)), amount=1, currency="EUR")),
        )
        for label, call in calls:
            for _ in range(20):
                call()
            samples = []
            for _ in range(n):
                started = time.perf_counter()
                call()
                samples.append(time.perf_counter() - started)
            samples.sort()
            lines.append(f"  {label:<58} p50={percentile(samples, 0.5) * 1e6:7.0f} us")
    return lines


async def run_bare(url: str, accounts: list[uuid.UUID], clients: int, seconds: float) -> RunResult:
    """The bare function under the same concurrent workload, for the cost of the ledger's extras."""
    latencies: list[float] = []
    before = load()

    async def work(seed: int, deadline: float) -> None:
        rng = random.Random(seed)
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                await conn.execute("SELECT bench_bare_transfer(%s, %s, %s, %s)",
                                   (uuid.uuid4(), *rng.sample(accounts, 2), rng.randint(1, MAX_TRANSFER)))
                latencies.append(time.perf_counter() - started)

    start = time.perf_counter()
    await asyncio.gather(*(work(seed, start + seconds) for seed in range(clients)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return RunResult("bare function, 1,000 accts", len(latencies), elapsed, percentile(latencies, 0.5) * 1000,
                     percentile(latencies, 0.99) * 1000, 0, f"{before}, {load()}")


# --- read paths on a year of data -------------------------------------------------------------
CATEGORIES = ("coffee", "groceries", "restaurants", "transport", "rent", "subscriptions", "shopping",
              "utilities", "entertainment", "travel", "health", "cash")
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)

# A day of card payments for every account, in time order as a live ledger appends them (an account's
# rows end up spread over the whole heap). Written straight into ledger_entries, as a bulk load, not
# through postings: this part measures the read paths. The table is unlogged and its secondary indexes
# are built after the load, which only makes loading faster; the queries see the same structures.
LOAD_DAY = """
INSERT INTO ledger_entries (account_id, version, transaction_id, amount, balance_after, currency, kind,
                            category, merchant, reference, effective_at, created_at)
SELECT a.id, %(day)s * %(per_day)s + j, gen_random_uuid(), -(100 + (random() * 4900)::int), 0, 'EUR',
       'card_payment', c.category, 'Merchant ' || c.m, NULL, ts, ts
FROM bench_accounts a
CROSS JOIN generate_series(1, %(per_day)s) AS j
CROSS JOIN LATERAL (SELECT (%(categories)s::text[])[1 + (random() * 11)::int] AS category,
                           (random() * 199)::int AS m,
                           %(start)s::timestamptz + make_interval(days => %(day)s, secs => random() * 86399) AS ts
                    WHERE j > 0) c
"""
SECONDARY_INDEXES = ("ledger_entries_account_time",)


def timed(call, n: int) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    samples.sort()
    return percentile(samples, 0.5) * 1000, percentile(samples, 0.99) * 1000


def spending_main(args: argparse.Namespace) -> None:
    per_day = max(1, round(args.per_account / 365))
    print(f"read-path bench: {args.accounts:,} accounts x {per_day * 365} card payments over one year, {load()}")
    with temporary_database(prefix="bankbot_bench") as url, psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("CREATE TABLE bench_accounts (id uuid PRIMARY KEY)")
        conn.execute("""INSERT INTO ledger_accounts (id, owner_id, name, kind, currency)
                        SELECT gen_random_uuid(), 'bench-' || i, 'bench', 'checking', 'EUR'
                        FROM generate_series(1, %s) AS i""", (args.accounts,))
        conn.execute("INSERT INTO bench_accounts SELECT id FROM ledger_accounts WHERE owner_id LIKE 'bench-%%'")
        definitions = [conn.execute("SELECT pg_get_indexdef(%s::regclass)", (name,)).fetchone()[0]
                       for name in SECONDARY_INDEXES]
        for name in SECONDARY_INDEXES:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        conn.execute("ALTER TABLE ledger_entries SET UNLOGGED")
        for day in range(365):
            conn.execute(LOAD_DAY, {"day": day, "per_day": per_day, "categories": list(CATEGORIES),
                                    "start": YEAR_START})
            if day % 30 == 29:
                print(f"  loaded {day + 1} days, {time.perf_counter() - started:.0f} s", flush=True)
        conn.execute("SET maintenance_work_mem = '512MB'")
        for definition in definitions:
            conn.execute(definition)
        conn.execute("VACUUM ANALYZE ledger_entries")  # sets the visibility map: index-only scans
        rows, size = conn.execute("""SELECT (SELECT count(*) FROM ledger_entries),
                                            pg_size_pretty(pg_total_relation_size('ledger_entries'))""").fetchone()
        print(f"  {rows:,} entries, {size} with indexes, loaded in {time.perf_counter() - started:.0f} s ({load()})")
        ids = [r[0] for r in conn.execute("SELECT id FROM bench_accounts ORDER BY random() LIMIT 400").fetchall()]
        rng = random.Random(5)
        year_end = YEAR_START + timedelta(days=365)
        month = (YEAR_START + timedelta(days=200), YEAR_START + timedelta(days=231))
        queries = {
            "spending, year, by category": lambda: ledger.spending(
                conn, account_ids=[rng.choice(ids)], start=YEAR_START, end=year_end, group_by="category"),
            "spending, year, by month": lambda: ledger.spending(
                conn, account_ids=[rng.choice(ids)], start=YEAR_START, end=year_end, group_by="month"),
            "spending, 1 month, coffee by merchant": lambda: ledger.spending(
                conn, account_ids=[rng.choice(ids)], start=month[0], end=month[1], category="coffee",
                group_by="merchant"),
            "statement, first page of 50": lambda: ledger.statement(conn, rng.choice(ids), limit=50),
            "statement, coffee, pages 1 and 2 of 20": lambda: (lambda account: ledger.statement(
                conn, account, category="coffee", limit=20,
                after_cursor=ledger.statement(conn, account, category="coffee", limit=20).next_cursor))(
                rng.choice(ids)),
            "balance_as_of mid-year": lambda: ledger.balance_as_of(conn, rng.choice(ids), month[0]),
        }
        for label, call in queries.items():
            p50, p99 = timed(call, 300)
            print(f"  {label:<40} p50={p50:6.2f} ms  p99={p99:6.2f} ms  ({load()})")
        plan = conn.execute(
            """EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT e.category, -sum(e.amount), count(*)
               FROM ledger_entries e WHERE e.account_id = ANY(%s::uuid[]) AND e.effective_at >= %s
               AND e.effective_at < %s AND e.kind = ANY(%s::text[]) GROUP BY 1""",
            ([ids[1]], YEAR_START, year_end, ["card_payment"])).fetchall()
        print("  plan of the spending query:")
        for (line,) in plan:
            print("    " + line)


# --- main --------------------------------------------------------------------------------------
def base_url() -> str:
    from api.config import get_settings

    return get_settings().database_url


async def transfers_main(args: argparse.Namespace) -> None:
    url_base = base_url()
    with temporary_database(prefix="bankbot_bench") as url:
        _PROBE_URL[:] = [url]
        print(f"ledger bench: {args.clients} clients, {args.seconds:.0f} s per run, {os.cpu_count()} CPUs, {load()}")
        pgbench = None
        if not args.skip_pgbench:
            pgbench = run_pgbench(url_base, args.clients, args.seconds)
            print(pgbench.line(), flush=True)
        with psycopg.connect(url, autocommit=True) as conn:
            cold = open_funded_accounts(conn, COLD_ACCOUNTS, "cold")
            hot = open_funded_accounts(conn, HOT_ACCOUNTS, "hot")
            conn.execute("VACUUM ANALYZE")  # autovacuum may be off: give the planner statistics
        cold_run = await run_transfers(url, cold, args.clients, args.seconds, f"ledger, {COLD_ACCOUNTS:,} accounts")
        print(cold_run.line(), flush=True)
        hot_run = await run_transfers(url, hot, args.clients, args.seconds, f"ledger, {HOT_ACCOUNTS} accounts (hot)")
        print(hot_run.line(), flush=True)
        batched_cold = batched_hot = None
        if args.batched:
            batched_cold = await run_transfers(url, cold, args.clients, args.seconds,
                                               f"batched, {COLD_ACCOUNTS:,} accounts", batched=True)
            print(batched_cold.line(), flush=True)
            batched_hot = await run_transfers(url, hot, args.clients, args.seconds,
                                              f"batched, {HOT_ACCOUNTS} accounts (hot)", batched=True)
            print(batched_hot.line(), flush=True)
        if args.breakdown:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(BARE_FUNCTION)
            bare = await run_bare(url, cold, args.clients, min(args.seconds, 10.0))
            print(bare.line())
            print(f"  ledger_post vs bare function, concurrent: {cold_run.tps / bare.tps:.2f}")
            print("cost per part, inside PostgreSQL (no round trip, no commit):")
            with psycopg.connect(url, autocommit=True) as conn:
                for line in server_side_costs(conn, cold):
                    print(line)
            print("one client, sequential, each call its own commit:")
            for line in client_round_trips(url, cold):
                print(line)
        with psycopg.connect(url, autocommit=True) as conn:
            drifts = ledger.reconcile(conn)
        print(f"reconcile after the runs: drift={len(drifts)}")
        _PROBE_URL.clear()  # the database goes away with this block
    errors = cold_run.errors + hot_run.errors
    print(f"cold_p50_ms={cold_run.p50_ms:.2f} cold_p99_ms={cold_run.p99_ms:.2f} hot_tps={hot_run.tps:.0f} "
          f"hot_p50_ms={hot_run.p50_ms:.2f} hot_p99_ms={hot_run.p99_ms:.2f} errors={errors} {load()}")
    pg_tps = pgbench.tps if pgbench else float("nan")
    extra = ""
    if batched_cold is not None and batched_hot is not None:
        extra = (f" batched_tps={batched_cold.tps:.0f} batched_vs_pgbench={batched_cold.tps / pg_tps:.2f}"
                 f" batched_hot_vs_cold={batched_hot.tps / batched_cold.tps:.2f}")
    if args.api:
        # The HTTP line (issue 4): POST /v1/transfers through the core, against this run's pgbench figure.
        api = await asyncio.to_thread(api_bench.run, int(args.seconds), pgbench.tps if pgbench else None)
        print(f"api: {api['api_tps']:.0f} transfers/s, p50 {api['api_p50_ms']:.1f} ms, p99 {api['api_p99_ms']:.1f} ms;"
              f" insights p95 {api['insights_p95_ms']:.0f} ms {load()}")
        extra += (f" api_tps={api['api_tps']:.0f} api_vs_pgbench={api.get('api_vs_pgbench', float('nan')):.2f}"
                  f" insights_p95_ms={api['insights_p95_ms']:.0f}")
    print(f"ledger_tps={cold_run.tps:.0f} pgbench_tps={pg_tps:.0f} ledger_vs_pgbench={cold_run.tps / pg_tps:.2f} "
          f"hot_vs_cold={hot_run.tps / cold_run.tps:.2f}{extra}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("transfers", "spending"), default="transfers")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--skip-pgbench", action="store_true")
    parser.add_argument("--no-breakdown", dest="breakdown", action="store_false")
    parser.add_argument("--no-batched", dest="batched", action="store_false")
    parser.add_argument("--no-api", dest="api", action="store_false", help="skip the HTTP line (bench/api_bench.py)")
    parser.add_argument("--accounts", type=int, default=100_000, help="spending: accounts with a year of data")
    parser.add_argument("--per-account", type=int, default=365, help="spending: card payments per account")
    args = parser.parse_args(argv)
    # A kill (timeout, Ctrl-C) unwinds normally, so the throwaway databases are dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    assert 1 <= args.clients <= 64 and 1 <= args.seconds <= 600
    try:
        import uvloop  # the asyncio loop the core runs on (uvicorn[standard]); plain asyncio otherwise

        runner = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    if args.only == "transfers":
        runner(transfers_main(args))
    else:
        spending_main(args)


if __name__ == "__main__":
    main()
