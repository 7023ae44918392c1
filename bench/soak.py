"""make soak: chat and transfers at a steady rate for ten minutes, each service's memory sampled throughout.

    python -m bench.soak [--minutes 10] [--rate 5] [--transfers-per-s 2] [--sample-seconds 5]

Starts its own stack (scripts/stack.py, name `soak`, ports 18800-18899 plus BANKBOT_TEST_PORT_OFFSET, its
own database and Redis db 10) and drives it with bench/mixed_load.py: chat turns (balance, spending,
search) at `--rate` turns/s and transfers between alice's own accounts under Idempotency-Keys. The default
rate, 5 turns/s, is a conservative half of the maximum measured for this stack in issue 16 (11.4 turns/s
at 20 concurrent conversations on 2 cores); pass the half of your own `make bench-chat` figure instead.

Every --sample-seconds it reads the pid files the stack wrote (var/run/soak/*.pid) and records each
service's resident memory, the process and its children (uvicorn's workers) together. Growth per
service compares the median of the first fifth of the run, after a warm-up (first requests fill caches,
Rasa's TensorFlow graphs), with the median of the last fifth. Targets (issue 16): growth under 10 %,
zero errors. The last line is `name=value` pairs; the exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psutil
import redis

from api.config import REPO_ROOT
from bench.mixed_load import Load, login, own_accounts, percentile

OFFSET = int(os.environ.get("BANKBOT_TEST_PORT_OFFSET", "0"))
CORE_PORT, RASA_PORT, ACTIONS_PORT, SANDBOX_PORT = (p + OFFSET for p in (18800, 18805, 18855, 18810))
REDIS_URL = os.environ.get("BANKBOT_TEST_REDIS", "redis://127.0.0.1:6379").rstrip("/") + "/10"
STACK = "soak"
MODEL = REPO_ROOT / "var" / "models" / "current.tar.gz"
GROWTH_TARGET_PCT = 10.0
WARM_UP_FRACTION = 0.1  # the first tenth (at most a minute) is warm-up, not growth
WINDOW_FRACTION = 0.2


def stack_command(command: str, database_url: str) -> list[str]:
    return [sys.executable, "-m", "scripts.stack", command, "--name", STACK, "--core-port", str(CORE_PORT),
            "--rasa-port", str(RASA_PORT), "--actions-port", str(ACTIONS_PORT), "--sandbox-port", str(SANDBOX_PORT),
            "--database-url", database_url, "--redis-url", REDIS_URL, "--redis-tracker-db", "10",
            "--model", str(MODEL), "--core-workers", "2", "--saga-workers", "1"]


def seed_customers(database_url: str, count: int) -> None:
    """Synthetic customers customer000000... (data/seed.py), one per chat thread."""
    import psycopg

    from api.auth.security import hash_password
    from data.seed import DEMO_PASSWORD, load_person, synthetic_people

    password_hash, today = hash_password(DEMO_PASSWORD), datetime.now(UTC).date()
    with psycopg.connect(database_url) as conn:
        for person in synthetic_people(count):
            load_person(conn, person, password_hash, today)


@contextmanager
def soak_stack(customers: int) -> Iterator[str]:
    """A seeded throwaway database and a stack on it; the core's URL."""
    from tests.dbutil import temporary_database
    from tests.factories import seed_demo

    # The limits are tested elsewhere (tests/api); here they would only cut the load short.
    env = {**os.environ, "MONEY_RATE_LIMIT": "1000000/minute", "CHAT_RATE_LIMIT": "1000000/minute",
           "LOGIN_RATE_LIMIT": "1000/minute", "LOGIN_USER_RATE_LIMIT": "10000/hour",
           "LOGIN_IP_RATE_LIMIT": "10000/hour"}
    redis.Redis.from_url(REDIS_URL).flushdb()
    with temporary_database(prefix="bankbot_soak") as url:
        seed_demo(url)
        seed_customers(url, customers)
        try:
            subprocess.run(stack_command("up", url), cwd=REPO_ROOT, env=env, check=True, timeout=900)
            yield f"http://127.0.0.1:{CORE_PORT}"
        finally:
            subprocess.run(stack_command("down", url), cwd=REPO_ROOT, env=env, check=False, timeout=300)


def measure(stack: str) -> tuple[dict[str, float], dict[str, float]]:
    """Each running service's resident memory (MB) and CPU time so far (s): its process and all descendants
    (uvicorn's workers)."""
    memory, cpu = {}, {}
    for pidfile in sorted((REPO_ROOT / "var" / "run" / stack).glob("*.pid")):
        try:
            process = psutil.Process(int(pidfile.read_text()))
            family = [process, *process.children(recursive=True)]
            memory[pidfile.stem] = sum(p.memory_info().rss for p in family) / 2**20
            cpu[pidfile.stem] = sum(sum(p.cpu_times()[:2]) for p in family)
        except (psutil.NoSuchProcess, ValueError, FileNotFoundError):
            continue  # a service that is not running has nothing to measure; the load's errors will say why
    return memory, cpu


def growth_pct(samples: list[tuple[float, dict[str, float]]], duration: float) -> dict[str, tuple[float, float, float]]:
    """Per service: (MB early, MB late, growth %), medians of the first and last windows after warm-up."""
    warm = min(60.0, WARM_UP_FRACTION * duration)
    window = WINDOW_FRACTION * duration
    early = [s for t, s in samples if warm <= t <= warm + window] or [samples[0][1]]
    late = [s for t, s in samples if t >= duration - window] or [samples[-1][1]]
    out = {}
    for service in early[0]:
        first = statistics.median(s[service] for s in early if service in s)
        last = statistics.median(s[service] for s in late if service in s)
        out[service] = (first, last, 100.0 * (last - first) / first)
    return out


def chat_threads(rate: float) -> int:
    """Closed-loop turns take a few hundred ms each: enough threads that the pacing, not the answers, sets
    the rate."""
    return max(2, math.ceil(rate))


def run(core_url: str, minutes: float, rate: float, transfers_per_s: float, sample_seconds: float) -> int:
    token = login(core_url, "alice")
    duration = minutes * 60
    load = Load(core_url, token, own_accounts(core_url, token), transfer_threads=2, chat_threads=chat_threads(rate),
                transfers_per_s=transfers_per_s, turns_per_s=rate,
                chat_tokens=[login(core_url, f"customer{n:06d}") for n in range(chat_threads(rate))])
    samples: list[tuple[float, dict[str, float]]] = []
    cpu_before = measure(STACK)[1]
    started = time.monotonic()
    load.start()
    try:
        while (elapsed := time.monotonic() - started) < duration:
            samples.append((elapsed, measure(STACK)[0]))
            time.sleep(min(sample_seconds, max(0.0, duration - elapsed)))
    finally:
        load.stop()
    elapsed = time.monotonic() - started
    memory, cpu_after = measure(STACK)
    samples.append((elapsed, memory))
    tally = load.tally
    growth = growth_pct(samples, elapsed)
    # CPU per service over the run: what docs/scaling.md sizes instances from (cores per turns/s).
    cpu_share = {s: (cpu_after[s] - cpu_before.get(s, 0.0)) / elapsed for s in cpu_after}
    for service, (first, last, pct) in sorted(growth.items()):
        print(f"{service:15} rss {first:8.1f} MB -> {last:8.1f} MB  growth {pct:+6.1f} %   "
              f"cpu {cpu_share.get(service, 0.0):5.2f} cores")
    for error in tally.errors[:20]:
        print(f"error: {error}")
    print(f"retried (retryable answers): {dict(tally.retried)}")
    worst = max(growth, key=lambda s: growth[s][2])
    turns, transfers = tally.ok["chat"], tally.ok["transfer"]
    met = not tally.errors and growth[worst][2] < GROWTH_TARGET_PCT
    print(f"targets (growth < {GROWTH_TARGET_PCT:.0f} %, zero errors): {'met' if met else 'MISSED'}")
    print(f"minutes={elapsed / 60:.1f} rate={rate:g} turns={turns} transfers={transfers} "
          f"turns_per_s={turns / elapsed:.2f} transfers_per_s={transfers / elapsed:.2f} "
          f"chat_p95_ms={percentile(tally.latencies_ms['chat'], 0.95):.0f} "
          f"transfer_p95_ms={percentile(tally.latencies_ms['transfer'], 0.95):.0f} "
          f"errors={len(tally.errors)} retried={sum(tally.retried.values())} "
          f"cpu_cores={sum(cpu_share.values()):.2f} rss_growth_pct_max={growth[worst][2]:.1f} "
          f"rss_growth_worst={worst} samples={len(samples)}")
    return 0 if met else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=5.0,
                        help="chat turns per second (default 5: half of the 11.4 turns/s measured in issue 16)")
    parser.add_argument("--transfers-per-s", type=float, default=2.0)
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    if not Path(MODEL).exists():
        sys.exit(f"no trained model at {MODEL}: run `make train`")
    with soak_stack(chat_threads(args.rate)) as core_url:
        return run(core_url, args.minutes, args.rate, args.transfers_per_s, args.sample_seconds)


if __name__ == "__main__":
    sys.exit(main())
