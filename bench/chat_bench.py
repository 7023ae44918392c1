"""`make bench-chat`: the whole stack's chat turns under load, and the stock `rasa init` bot measured the
same way in the same run.

    .venv/bin/python -m bench.chat_bench [--levels 1,5,10,20,40] [--seconds 20] [--long-turns 80] [--no-stock]
                                         [--plot PATH]    # a short comparison run: keep docs/img's plot

Starts core, action server, Rasa, sandbox and saga workers (scripts/stack.py) on ports 38200/35205/35255/
38300 (the core's internal listener and transcript ingest on 38201/38202) against a new database seeded
with the demo people and 40 synthetic customers, then for each level
N runs Locust headless (bench/chat_locust.py): N virtual customers, each signed in once, each script a new
conversation (balance, spending and its follow-up, search, transfer and confirmation, lost-card report,
FAQ), closed loop, for --seconds. Then one conversation of --long-turns FAQ turns (does a turn cost more
as the conversation grows?). Then the stock bot (`rasa init`, trained once, cached in var/stock-rasa;
DIET + TED, REST channel, no action server) under the same levels. Percentiles are exact, from every
turn's latency; throughput is turns per second of the level's measured window.

Prints a table per level and turn type, with the mean time of each of the action server's calls to the core
during the level (its action_core_call_seconds: which core call a turn waits for under load), writes
docs/img/chat_latency.png (or --plot) and var/bench/chat.json, and
last: `chat_p50_ms_at_1=... chat_p95_ms_at_20=... turns_per_s=... stock_rasa_turns_per_s=...
vs_stock_rasa=... errors=...` (throughputs at 20 conversations), then more pairs (service_token_ms_at_20:
the grant exchange's mean at 20 conversations; nan when the action server made none, as with the sealed
token of api/grants/sealing.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from prometheus_client.parser import text_string_to_metric_families

from api.auth.security import hash_password
from api.config import REPO_ROOT
from bench.soak import measure
from data.seed import DEMO_PASSWORD, load_person, synthetic_people
from tests.dbutil import temporary_database
from tests.factories import seed_demo

PORTS = {"core": 38200, "rasa": 35205, "actions": 35255, "stock": 35405}
REDIS_URL = "redis://127.0.0.1:6379/13"
TRACKER_DB = 14
MODEL = REPO_ROOT / "var" / "models" / "current.tar.gz"
STOCK_DIR = REPO_ROOT / "var" / "stock-rasa"
OUT = REPO_ROOT / "var" / "bench"
PLOT = REPO_ROOT / "docs" / "img" / "chat_latency.png"
CUSTOMERS = 40
STACK = "chat-bench"  # scripts.stack --name: its pid files are where each service's CPU is read
NAN = float("nan")
EXCHANGE_PATH = "/v1/auth/service-token"  # the grant exchange, on the path of every action of a turn
BOT_PYTHON = REPO_ROOT / ".venv-bot" / "bin" / "python"
# Load, not limits, is measured: every limit a real customer never reaches is set out of the way.
UNLIMITED = {"MONEY_RATE_LIMIT": "100000/minute", "CHAT_RATE_LIMIT": "100000/minute",
             "LOGIN_RATE_LIMIT": "100000/minute", "LOGIN_USER_RATE_LIMIT": "100000/hour",
             "LOGIN_IP_RATE_LIMIT": "100000/hour", "LOGIN_GLOBAL_RATE_LIMIT": "100000/minute",
             "TRANSFER_DAILY_MAX_MINOR": "100000000000"}


@dataclass
class Level:
    users: int
    turns: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # The action server's calls to the core during the level, mean ms by path: under load, which core call
    # a turn waits for (the service-token exchange waited behind transcript redaction when they shared a
    # process).
    core_call_ms: dict[str, float] = field(default_factory=dict)
    # CPU each service of the stack spent per turn during the level (ms, its processes and their children):
    # on 2 shared cores the stack is CPU-bound under load, so this names where a turn's cost goes.
    cpu_ms_per_turn: dict[str, float] = field(default_factory=dict)

    @property
    def turns_per_s(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0

    def percentile(self, q: int, turn: str | None = None) -> float:
        values = self.latencies[turn] if turn else [v for vs in self.latencies.values() for v in vs]
        if len(values) < 2:
            return values[0] if values else float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

    def summary(self) -> dict[str, Any]:
        return {"users": self.users, "turns": self.turns, "errors": self.errors, "turns_per_s": self.turns_per_s,
                "p50_ms": self.percentile(50), "p95_ms": self.percentile(95), "p99_ms": self.percentile(99),
                "by_turn": {t: {"p50_ms": self.percentile(50, t), "p95_ms": self.percentile(95, t),
                                "p99_ms": self.percentile(99, t), "n": len(v)} for t, v in self.latencies.items()},
                "core_call_ms": self.core_call_ms, "cpu_ms_per_turn": self.cpu_ms_per_turn}


def core_calls(actions_url: str) -> dict[str, tuple[float, float]]:
    """The action server's calls to the core so far, per path: (seconds, count) of action_core_call_seconds."""
    try:
        text = httpx.get(f"{actions_url}/metrics", timeout=10).text
    except httpx.HTTPError:
        return {}
    totals: dict[str, tuple[float, float]] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "action_core_call_seconds":
            continue
        for sample in family.samples:
            path = sample.labels.get("path", "")
            seconds, count = totals.get(path, (0.0, 0.0))
            if sample.name.endswith("_sum"):
                totals[path] = (seconds + sample.value, count)
            elif sample.name.endswith("_count"):
                totals[path] = (seconds, count + sample.value)
    return totals


def mean_ms_between(before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]]) -> dict[str, float]:
    means = {}
    for path, (seconds, count) in after.items():
        seconds0, count0 = before.get(path, (0.0, 0.0))
        if count > count0:
            means[path] = (seconds - seconds0) / (count - count0) * 1000
    return means


def cpu_ms_per_turn(before: dict[str, float], after: dict[str, float], turns: int) -> dict[str, float]:
    """CPU milliseconds per turn by service between two samples (bench.soak.measure); saga workers summed."""
    out: dict[str, float] = defaultdict(float)
    for name, seconds in after.items():
        if name in before and turns:
            out[name.split("-worker-")[0] if "worker" in name else name] += (seconds - before[name]) * 1000 / turns
    return dict(out)


def seed(database_url: str) -> list[str]:
    """The demo people and CUSTOMERS synthetic customers; their usernames."""
    seed_demo(database_url)
    people = list(synthetic_people(CUSTOMERS))
    password_hash, today = hash_password(DEMO_PASSWORD), datetime.now(UTC).date()
    with psycopg.connect(database_url) as conn:
        for person in people:
            load_person(conn, person, password_hash, today)
    return [p.username for p in people]


def stack(command: str, database_url: str) -> None:
    argv = [sys.executable, "-m", "scripts.stack", command, "--name", STACK,
            "--core-port", str(PORTS["core"]), "--rasa-port", str(PORTS["rasa"]),
            "--actions-port", str(PORTS["actions"]), "--database-url", database_url, "--redis-url", REDIS_URL,
            "--redis-tracker-db", str(TRACKER_DB), "--model", str(MODEL), "--core-workers", "2"]
    result = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, env={**os.environ, **UNLIMITED})
    if result.returncode != 0:
        sys.exit(f"stack {command} failed:\n{result.stdout}\n{result.stderr}")


def run_level(*, target: str, host: str, users: int, seconds: float, usernames: list[str]) -> Level:
    """One closed-loop level through Locust, headless; every turn's latency."""
    with tempfile.TemporaryDirectory() as tmp:
        samples = Path(tmp) / "samples.json"
        env = {**os.environ, "BENCH_TARGET": target, "BENCH_USERS": ",".join(usernames),
               "BENCH_SAMPLES": str(samples)}
        started = time.time()
        subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "locust"), "-f", str(REPO_ROOT / "bench" / "chat_locust.py"),
                        "--headless", "--users", str(users), "--spawn-rate", str(users), "--run-time",
                        f"{seconds:g}s", "--host", host, "--only-summary", "--stop-timeout", "30",
                        "--loglevel", "WARNING"], cwd=REPO_ROOT, env=env, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=seconds + 180)
        raw = json.loads(samples.read_text()) if samples.exists() else []
    level = Level(users)
    # The window: from the first answer after every user has started (sign-ins are not turns) to the last.
    answered = sorted(at for _, at, _, _ in raw)
    window_start = answered[min(users, len(answered)) - 1] if answered else started
    for name, at, ms, ok in raw:
        if at < window_start:
            continue
        level.turns += 1
        if ok:
            level.latencies[name].append(ms)
        else:
            level.errors += 1
    level.seconds = (answered[-1] - window_start) if answered else 0.0
    return level


def long_conversation(host: str, username: str, turns: int) -> dict[str, float]:
    """One conversation of `turns` FAQ turns: median milliseconds of the first and the last ten."""
    with httpx.Client(base_url=host, timeout=60) as client:
        token = client.post("/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        conversation_id, costs = None, []
        for _ in range(turns):
            body = {"text": "how long does a card delivery take",
                    **({"conversation_id": conversation_id} if conversation_id else {})}
            began = time.perf_counter()
            answer = client.post("/v1/chat/messages", json=body, headers=headers)
            costs.append((time.perf_counter() - began) * 1000)
            answer.raise_for_status()
            conversation_id = answer.json()["conversation_id"]
    first, last = statistics.median(costs[:10]), statistics.median(costs[-10:])
    return {"first_ten_p50_ms": first, "last_ten_p50_ms": last, "ratio": last / first}


def stock_bot() -> subprocess.Popen[bytes]:
    """The stock `rasa init` bot, trained once (cached), serving its REST channel."""
    if not list((STOCK_DIR / "models").glob("*.tar.gz")):
        shutil.rmtree(STOCK_DIR, ignore_errors=True)
        STOCK_DIR.mkdir(parents=True)
        print("training the stock rasa init bot once (cached in var/stock-rasa) ...", flush=True)
        subprocess.run([str(BOT_PYTHON), "-m", "rasa", "init", "--no-prompt", "--init-dir", str(STOCK_DIR)],
                       cwd=STOCK_DIR, check=True, stdout=subprocess.DEVNULL, timeout=3600)
    log = (OUT / "stock-rasa.log").open("wb")
    process = subprocess.Popen([str(BOT_PYTHON), "-m", "rasa", "run", "--port", str(PORTS["stock"]),
                                "--interface", "127.0.0.1", "--model", "models"], cwd=STOCK_DIR, stdout=log,
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:  # ready when it answers a message (no --enable-api, so no /status to ask)
            reply = httpx.post(f"http://127.0.0.1:{PORTS['stock']}/webhooks/rest/webhook",
                               json={"sender": "warmup", "message": "hello"}, timeout=30)
            if reply.status_code == 200 and reply.json():
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            sys.exit(f"the stock rasa bot stopped: see {OUT / 'stock-rasa.log'}")
        time.sleep(0.5)
    process.kill()
    sys.exit("the stock rasa bot did not answer within 300 s")


def plot(ours: list[Level], stock: list[Level], path: Path = PLOT) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (latency, throughput) = plt.subplots(1, 2, figsize=(11, 4.2))
    for levels, label, style in ((ours, "this stack (POST /v1/chat/messages)", "o-"),
                                 (stock, "stock rasa init (REST webhook)", "s--")):
        if not levels:
            continue
        users = [lv.users for lv in levels]
        latency.plot(users, [lv.percentile(50) for lv in levels], style, label=f"{label} p50")
        latency.plot(users, [lv.percentile(95) for lv in levels], style, alpha=0.5, label=f"{label} p95")
        throughput.plot(users, [lv.turns_per_s for lv in levels], style, label=label)
    latency.set(xlabel="concurrent conversations", ylabel="turn latency (ms)", title="Latency", yscale="log")
    throughput.set(xlabel="concurrent conversations", ylabel="turns per second", title="Throughput")
    latency.legend(fontsize=7)
    throughput.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def at(levels: list[Level], users: int) -> Level | None:
    return next((lv for lv in levels if lv.users == users), None)


def print_level(target: str, level: Level) -> None:
    print(f"[{target}] N={level.users:>2} turns={level.turns} turns/s={level.turns_per_s:.1f} errors={level.errors} "
          f"p50={level.percentile(50):.0f} p95={level.percentile(95):.0f} p99={level.percentile(99):.0f} ms",
          flush=True)
    for turn in sorted(level.latencies):
        print(f"    {turn:<9} n={len(level.latencies[turn]):>5} p50={level.percentile(50, turn):>6.0f} "
              f"p95={level.percentile(95, turn):>6.0f} p99={level.percentile(99, turn):>6.0f} ms")
    if level.cpu_ms_per_turn:
        print("    CPU per turn by service, ms: " + ", ".join(
            f"{name} {ms:.1f}" for name, ms in sorted(level.cpu_ms_per_turn.items(), key=lambda kv: -kv[1])),
            flush=True)
    if level.core_call_ms:
        print("    core calls from the action server, mean ms: " + ", ".join(
            f"{path} {ms:.0f}" for path, ms in sorted(level.core_call_ms.items())), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1,5,10,20,40")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--long-turns", type=int, default=80)
    parser.add_argument("--no-stock", action="store_true", help="skip the stock rasa comparison")
    # A short comparison run (fewer levels, shorter) must not replace the plot docs/benchmarks.md shows.
    parser.add_argument("--plot", type=Path, default=PLOT, help=f"where the plot goes (default {PLOT})")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    assert max(levels) <= CUSTOMERS, f"at most {CUSTOMERS} concurrent customers"
    OUT.mkdir(parents=True, exist_ok=True)
    redis.Redis.from_url(REDIS_URL).flushdb()
    redis.Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + f"/{TRACKER_DB}").flushdb()
    ours: list[Level] = []
    with temporary_database(prefix="bankbot_chatbench") as url:
        usernames = seed(url)
        try:
            # Inside the try: an `up` that fails half way (a port taken) leaves started services to stop.
            stack("up", url)
            host = f"http://127.0.0.1:{PORTS['core']}"
            run_level(target="bank", host=host, users=2, seconds=5, usernames=usernames)  # warm-up, not counted
            actions_url = f"http://127.0.0.1:{PORTS['actions']}"
            for users in levels:
                before, cpu_before = core_calls(actions_url), measure(STACK)[1]
                ours.append(run_level(target="bank", host=host, users=users, seconds=args.seconds,
                                      usernames=usernames))
                ours[-1].core_call_ms = mean_ms_between(before, core_calls(actions_url))
                ours[-1].cpu_ms_per_turn = cpu_ms_per_turn(cpu_before, measure(STACK)[1], ours[-1].turns)
                print_level("stack", ours[-1])
            long = long_conversation(host, usernames[-1], args.long_turns) if args.long_turns >= 20 else {}
            if long:
                print(f"[stack] one conversation of {args.long_turns} FAQ turns: first ten p50 "
                      f"{long['first_ten_p50_ms']:.0f} ms, last ten p50 {long['last_ten_p50_ms']:.0f} ms", flush=True)
        finally:
            stack("down", url)
    stock: list[Level] = []
    if not args.no_stock:
        process = stock_bot()
        try:
            host = f"http://127.0.0.1:{PORTS['stock']}"
            run_level(target="stock", host=host, users=2, seconds=5, usernames=[])
            for users in levels:
                stock.append(run_level(target="stock", host=host, users=users, seconds=args.seconds, usernames=[]))
                print_level("stock", stock[-1])
        finally:
            process.terminate()
            process.wait(timeout=60)
    plot(ours, stock, args.plot)
    (OUT / "chat.json").write_text(json.dumps({"stack": [lv.summary() for lv in ours],
                                               "stock": [lv.summary() for lv in stock], "long": long}, indent=1))
    one, twenty, stock_twenty = at(ours, 1), at(ours, 20), at(stock, 20)
    turns_per_s = twenty.turns_per_s if twenty else float("nan")
    stock_per_s = stock_twenty.turns_per_s if stock_twenty else float("nan")
    pairs = {
        "chat_p50_ms_at_1": f"{one.percentile(50):.0f}" if one else "nan",
        "chat_p95_ms_at_20": f"{twenty.percentile(95):.0f}" if twenty else "nan",
        "turns_per_s": f"{turns_per_s:.1f}",
        "stock_rasa_turns_per_s": f"{stock_per_s:.1f}",
        "vs_stock_rasa": f"{turns_per_s / stock_per_s:.2f}" if stock_twenty else "nan",
        "errors": str(sum(lv.errors for lv in ours)),
        "balance_p95_ms_at_20": f"{twenty.percentile(95, 'balance'):.0f}" if twenty else "nan",
        "spending_p95_ms_at_20": f"{twenty.percentile(95, 'spending'):.0f}" if twenty else "nan",
        "turn80_vs_turn1": f"{long['ratio']:.2f}" if long else "nan",
        "service_token_ms_at_20": f"{twenty.core_call_ms.get(EXCHANGE_PATH, NAN):.0f}" if twenty else "nan",
        "cpu_ms_per_turn_at_20": f"{sum(twenty.cpu_ms_per_turn.values()):.0f}" if twenty else "nan",
        "busiest_at_20": max(twenty.cpu_ms_per_turn, key=twenty.cpu_ms_per_turn.__getitem__)
        if twenty and twenty.cpu_ms_per_turn else "nan",
        "stock_errors": str(sum(lv.errors for lv in stock)),
    }
    print(" ".join(f"{k}={v}" for k, v in pairs.items()))


if __name__ == "__main__":
    main()
