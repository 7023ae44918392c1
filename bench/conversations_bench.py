"""The conversation evaluation set (tuned half, held-out half, two blind sets), end to end on a stack of its own.

    .venv/bin/python -m bench.conversations_bench [--split tuned|heldout|dev|blind|blind2|all]

Starts core, action server and Rasa (the model `make train` built) on ports 38000/35005/35055 against a
new seeded database and Redis dbs 11/12, runs tests/conversations/runner.py through
POST /v1/chat/messages, prints every miss with its utterance and what was said, the figures of each half,
and last the line of the newest blind set (blind2, a fourth writer's, the one no rule was fitted to):
`transfer_exact=... spending_exact=... followup_exact=... intent_accuracy=... oos_precision=... oos_recall=...`
(then more name=value pairs, wrong_figures among them: answers that stated a figure for another filter).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import redis

from api.config import REPO_ROOT
from scripts import environment
from tests.conversations import runner
from tests.dbutil import temporary_database
from tests.factories import seed_demo

PORTS = {"core": 38000, "rasa": 35005, "actions": 35055}
REDIS_URL = "redis://127.0.0.1:6379/11"
TRACKER_DB = 12
MODEL = REPO_ROOT / "var" / "models" / "current.tar.gz"
# The set confirms about 130 transfers in a few minutes; the money rate limit is not what is measured.
MONEY_RATE_LIMIT = "1000/minute"


def stack(command: str, database_url: str) -> None:
    argv = [sys.executable, "-m", "scripts.stack", command, "--name", "conversations-bench",
            "--core-port", str(PORTS["core"]), "--rasa-port", str(PORTS["rasa"]),
            "--actions-port", str(PORTS["actions"]), "--database-url", database_url, "--redis-url", REDIS_URL,
            "--redis-tracker-db", str(TRACKER_DB), "--model", str(MODEL), "--core-workers", "2"]
    env = {**os.environ, "MONEY_RATE_LIMIT": MONEY_RATE_LIMIT, "CHAT_RATE_LIMIT": "1000/minute"}
    result = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"stack {command} failed:\n{result.stdout}\n{result.stderr}")


def run_split(client: runner.Client, split: str) -> dict[str, float | int]:
    started = time.monotonic()
    utterances, conversations = runner.load(split)
    report = runner.evaluate(client, utterances, conversations)
    for miss in report.failures():
        print(f"[{split}] miss {miss.kind} {miss.item} {miss.text!r}: {miss.detail}")
    for text, expected, predicted in report.intents:
        if expected != predicted:
            print(f"[{split}] intent {text!r}: expected {expected}, parsed {predicted}")
    figures = report.figures()
    print(f"[{split}] {len(utterances)} utterances, {len(conversations)} conversations, "
          f"{report.count('transfer')} transfers, {report.count('spending')} spending answers, "
          f"{report.count('followup')} follow-ups in {time.monotonic() - started:.0f} s")
    print(f"[{split}] {runner.format_figures(figures)}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("tuned", "heldout", "dev", "blind", "blind2", "all"), default="all")
    args = parser.parse_args()
    if not MODEL.exists():
        sys.exit(f"no trained model at {MODEL}: run `make train`")
    for db in (REDIS_URL, f"redis://127.0.0.1:6379/{TRACKER_DB}"):
        redis.Redis.from_url(db).flushdb()
    with temporary_database(prefix="bankbot_convbench") as url:
        seed_demo(url)
        try:
            stack("up", url)
            client = runner.Client(f"http://127.0.0.1:{PORTS['core']}", f"http://127.0.0.1:{PORTS['rasa']}",
                                   environment.value("RASA_API_TOKEN"))
            client.sign_in()
            splits = ("tuned", "heldout", "blind", "blind2") if args.split == "all" else (args.split,)
            results = {split: run_split(client, split) for split in splits}
        finally:
            stack("down", url)
    last = results[splits[-1]]
    print(runner.format_figures(last))


if __name__ == "__main__":
    main()
