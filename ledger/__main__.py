"""Command line: `python -m ledger reconcile` (exit 1 on drift) and `python -m ledger expire-holds`.

The database comes from --database-url, else the DATABASE_URL environment variable, else the local
default postgresql://postgres@127.0.0.1:5432/bankbot.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import psycopg

from ledger.holds import expire_holds
from ledger.reconcile import reconcile, totals

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bankbot"


def _reconcile(url: str) -> int:
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        drifts = reconcile(conn)
        counts = totals(conn)
    for drift in drifts:
        print(f"DRIFT {drift}")
    print(f"reconcile: {counts.accounts} accounts, {counts.transactions} transactions, {counts.entries} entries, "
          f"{counts.holds} holds checked in {time.perf_counter() - started:.2f}s; drift={len(drifts)}")
    return 1 if drifts else 0


def _expire(url: str) -> int:
    total = 0
    with psycopg.connect(url, autocommit=True) as conn:
        while (n := expire_holds(conn)) > 0:
            total += n
    print(f"expire-holds: {total} holds expired")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("reconcile", "expire-holds"))
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    args = parser.parse_args(argv)
    return _reconcile(args.database_url) if args.command == "reconcile" else _expire(args.database_url)


if __name__ == "__main__":
    sys.exit(main())
