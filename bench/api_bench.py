"""HTTP benchmark of the core: internal transfers through POST /v1/transfers (wrk, 16 connections, fresh
Idempotency-Keys) and the latency of GET /v1/insights/spending for a month (ab, p95).

    python -m bench.api_bench [--pgbench-tps N] [--seconds 20]

Runs its own core (uvicorn, 2 workers) on port 18100 against a throwaway, seeded database. Prints the
figures, then a last line `api_tps=... api_p50_ms=... api_p99_ms=... insights_p95_ms=...` (plus
`api_vs_pgbench=...` when pgbench's figure is given). Called by bench/ledger_bench.py with the pgbench
figure of the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from api.auth.security import hash_password
from data.seed import DEMO_PASSWORD, load_person, synthetic_people
from tests.dbutil import temporary_database
from tests.factories import seed_demo

ROOT = Path(__file__).resolve().parent.parent
PORT = 18100
BASE = f"http://127.0.0.1:{PORT}"
REDIS_URL = "redis://127.0.0.1:6379/4"
CUSTOMERS = 16  # one per connection: customers transfer concurrently; one customer's transfers serialise


def need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"{tool} is needed: apt-get install -y {package}")
    return path


def start_core(database_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "LOG_LEVEL": "WARNING",
           "MONEY_RATE_LIMIT": "100000000/minute", "TRANSFER_DAILY_MAX_MINOR": str(10**12),
           "ACCESS_TOKEN_MINUTES": "120", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([str(ROOT / ".venv/bin/uvicorn"), "api.main:app", "--host", "127.0.0.1",
                                "--port", str(PORT), "--workers", "2", "--no-access-log", "--log-level", "warning"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{BASE}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    sys.exit("the core did not become ready for the benchmark")


def wrk_transfers(customers: list[tuple[str, str, str]], seconds: int) -> dict[str, float]:
    env = {**os.environ, "BENCH_RUN_ID": uuid.uuid4().hex[:8],
           "BENCH_CUSTOMERS": ";".join(",".join(c) for c in customers)}
    out = subprocess.run([need("wrk", "wrk"), "-t4", "-c16", f"-d{seconds}s", "--latency", "-s",
                          str(ROOT / "bench/wrk_transfer.lua"), BASE], env=env, capture_output=True, text=True,
                         check=True).stdout
    print(out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert errors is None, f"{errors.group(1)} transfers failed during the benchmark"

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"tps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "p50": ms("50%"), "p99": ms("99%")}


def ab_insights(token: str, requests: int = 500) -> float:
    today = date.today()
    url = f"{BASE}/v1/insights/spending?from={(today - timedelta(days=30)).isoformat()}&to={today.isoformat()}" \
          "&group_by=category"
    out = subprocess.run([need("ab", "apache2-utils"), "-q", "-n", str(requests), "-c", "1", "-H",
                          f"Authorization: Bearer {token}", url], capture_output=True, text=True, check=True).stdout
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    assert failed == 0 and non2xx is None, out
    return float(re.search(r"^\s*95%\s+(\d+)", out, re.M).group(1))  # type: ignore[union-attr]


def login(username: str) -> tuple[str, str, str]:
    token = httpx.post(f"{BASE}/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD},
                       timeout=30).json()["access_token"]
    accounts = httpx.get(f"{BASE}/v1/accounts", timeout=30, headers={"Authorization": f"Bearer {token}"}).json()
    return token, accounts[0]["id"], accounts[1]["id"]


def seed_customers(url: str, count: int) -> list[str]:
    """Verified customers with funded accounts (one transfer each moves a customer's own money)."""
    today = datetime.now(UTC).date()
    password_hash = hash_password(DEMO_PASSWORD)
    people = [replace(p, salary=500000, opening=1_000_000) for p in synthetic_people(count)]
    with psycopg.connect(url) as conn:
        for person in people:
            load_person(conn, person, password_hash, today)
    return [p.username for p in people]


def run(seconds: int, pgbench_tps: float | None) -> dict[str, float]:
    with temporary_database(prefix="bankbot_bench_api") as url:
        seed_demo(url)
        usernames = seed_customers(url, CUSTOMERS)
        with psycopg.connect(url, autocommit=True) as conn:
            # A live database has planner statistics and vacuumed tables; a freshly seeded one has
            # neither until autovacuum runs (which may be off, as on the benchmark machine).
            conn.execute("VACUUM ANALYZE")
        core = start_core(url)
        try:
            token = login("alice")[0]
            customers = [login(u) for u in usernames]
            with psycopg.connect(url) as conn:
                before = conn.execute("SELECT count(*) FROM transfers").fetchone()[0]
            transfers = wrk_transfers(customers, seconds)
            with psycopg.connect(url) as conn:
                made = conn.execute("SELECT count(*) FROM transfers").fetchone()[0] - before
            insights_p95 = ab_insights(token)
        finally:
            core.terminate()
            core.wait(timeout=30)
        reconcile = subprocess.run([sys.executable, "-m", "ledger", "reconcile"], cwd=ROOT,
                                   env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True)
        assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
    print(f"api transfers: {made} completed in {seconds} s, ledger reconciled with zero drift")
    result = {"api_tps": transfers["tps"], "api_p50_ms": transfers["p50"], "api_p99_ms": transfers["p99"],
              "insights_p95_ms": insights_p95}
    if pgbench_tps:
        result["api_vs_pgbench"] = transfers["tps"] / pgbench_tps
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--pgbench-tps", type=float, default=None)
    args = parser.parse_args()
    result = run(args.seconds, args.pgbench_tps)
    print(" ".join(f"{k}={v:.2f}" for k, v in result.items()))


if __name__ == "__main__":
    main()
