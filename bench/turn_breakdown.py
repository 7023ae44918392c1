"""Where one chat turn's time goes, per turn type, against a running stack (`make up`, or any stack).

    python -m bench.turn_breakdown [--core-url http://127.0.0.1:8000] [--internal-url http://127.0.0.1:8001]
                                   [--actions-url http://127.0.0.1:5055] [--rasa-url http://127.0.0.1:5005]
                                   [--turns 10] [--users alice,bob]

Runs K turns of each type (balance, spending, FAQ), one at a time, and prints per type, in milliseconds:

    total        median, measured by this client around POST /v1/chat/messages
    core         median of the core's own part: Server-Timing `total` minus `rasa` (api/chat/timing.py)
    rasa         median of the relay to Rasa (Server-Timing `rasa`): NLU, policies, tracker, actions
    actions      mean per turn of the action server's action_run_seconds (its /metrics, before/after)
    core_calls   mean per turn of the actions' calls to the core (action_core_call_seconds)
    token_exchange  the part of core_calls spent trading grants for service tokens (path
                 /v1/auth/service-token on core-internal): on every action's path, so it is named apart
    rasa_only    rasa minus actions: Rasa's own share (NLU, policies, tracker and lock store, HTTP)
    rasa_nlu, rasa_policies, rasa_tracker, rasa_lock, rasa_actions
                 mean per turn of Rasa's rasa_phase_seconds (bot/bankbot_timing.py): the NLU pipeline, the
                 policy ensemble, the tracker's load and save (Redis, and the event broker's enqueue), the
                 conversation's lock (turn minus processing), and running the actions as Rasa sees it
                 (the action server's run, the HTTP to it, and the responses Rasa renders itself)
    redaction    mean per turn of bankbot_redaction_seconds (the transcript ingest; off the turn's path,
                 but on the same CPUs)

Medians come from each turn's Server-Timing header; the action server's, Rasa's parts and redaction are
means (histogram sum and count deltas of the metrics endpoints). Each type uses fresh conversations of
--per-conversation turns, so that the conversation's length (a cost of its own, issue 16) stays small.
The last line is `name=value` pairs, and `slowest=` names the biggest part of the slowest turn type.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

from data.seed import DEMO_PASSWORD

TURNS = {
    "balance": "what's my balance?",
    "spending": "how much did I spend on coffee last month?",
    "faq": "what exchange rate do you use?",  # a FAQ answered by a response, no action
}


_unreachable: set[str] = set()
GRANT_EXCHANGE_PATH = "/v1/auth/service-token"  # a label of action_core_call_seconds (actions/core_client.py)


@dataclass
class Turns:
    total: list[float] = field(default_factory=list)
    core: list[float] = field(default_factory=list)
    rasa: list[float] = field(default_factory=list)


def scrape(sources: dict[str, tuple[str, ...]]) -> dict[str, float]:
    """Each histogram's `_sum` in seconds: over all its labels as `name`, and per label value as
    `name:value` (Rasa's phases). An endpoint that does not answer adds nothing (its figures read 0)."""
    totals: dict[str, float] = {}
    for url, names in sources.items():
        try:
            text = httpx.get(url, timeout=10).raise_for_status().text
        except httpx.HTTPError as exc:
            if url not in _unreachable:
                _unreachable.add(url)
                print(f"no metrics from {url} ({type(exc).__name__}): its figures read 0", file=sys.stderr)
            continue
        for family in text_string_to_metric_families(text):
            if family.name not in names:
                continue
            for sample in family.samples:
                if sample.name == f"{family.name}_sum":
                    totals[family.name] = totals.get(family.name, 0.0) + sample.value
                    for value in sample.labels.values():
                        key = f"{family.name}:{value}"
                        totals[key] = totals.get(key, 0.0) + sample.value
    for names in sources.values():
        for name in names:
            totals.setdefault(name, 0.0)
    return totals


def server_timing(header: str) -> dict[str, float]:
    parts = (p.strip().split(";dur=") for p in header.split(",") if ";dur=" in p)
    return {name: float(ms) for name, ms in parts}


class Client:
    def __init__(self, core_url: str, users: list[str]) -> None:
        self.core_url = core_url
        self.http = httpx.Client(timeout=60)
        self.tokens = [self._login(u) for u in users]
        self.conversations = 0
        self.token = self.tokens[0]  # the current conversation's customer

    def _login(self, username: str) -> str:
        response = self.http.post(f"{self.core_url}/v1/auth/token",
                                  data={"username": username, "password": DEMO_PASSWORD})
        response.raise_for_status()
        return response.json()["access_token"]

    def chat(self, text: str, conversation_id: str | None) -> tuple[float, dict[str, float], str]:
        """One turn (retried after a 429, the per-customer chat limit): client ms, Server-Timing, conversation."""
        if conversation_id is None:  # a new conversation: the next customer (spreads the chat rate limit)
            self.token = self.tokens[self.conversations % len(self.tokens)]
            self.conversations += 1
        token = self.token
        body = {"text": text, **({"conversation_id": conversation_id} if conversation_id else {})}
        while True:
            started = time.perf_counter()
            response = self.http.post(f"{self.core_url}/v1/chat/messages", json=body,
                                      headers={"Authorization": f"Bearer {token}"})
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 429:
                break
            time.sleep(float(response.headers.get("retry-after", "2")))
        response.raise_for_status()
        return elapsed, server_timing(response.headers.get("server-timing", "")), response.json()["conversation_id"]


def conversations(client: Client, text: str, turns: int, per_conversation: int) -> Iterator[tuple[float, dict]]:
    conversation_id = None
    for n in range(turns):
        if n % per_conversation == 0:
            conversation_id = None
        elapsed, timing, conversation_id = client.chat(text, conversation_id)
        yield elapsed, timing


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--core-url", default="http://127.0.0.1:8000")
    parser.add_argument("--internal-url", help="the core's internal listener (default: the core's port + 1)")
    parser.add_argument("--actions-url", default="http://127.0.0.1:5055")
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    parser.add_argument("--turns", type=int, default=10, help="turns per type")
    parser.add_argument("--per-conversation", type=int, default=5)
    parser.add_argument("--users", default="alice,bob", help="customers to spread turns over (chat rate limit)")
    parser.add_argument("--settle-seconds", type=float, default=2.0, help="wait for the transcript ingest")
    args = parser.parse_args(argv)
    if args.internal_url is None:
        base, port = args.core_url.rsplit(":", 1)
        args.internal_url = f"{base}:{int(port.rstrip('/')) + 1}"
    sources = {f"{args.internal_url}/metrics/": ("bankbot_redaction_seconds",),
               f"{args.actions_url}/metrics": ("action_run_seconds", "action_core_call_seconds"),
               f"{args.rasa_url}/webhooks/rest/metrics": ("rasa_phase_seconds",)}
    client = Client(args.core_url, args.users.split(","))
    client.chat("hello", None)  # warm-up: first-call costs are not a turn type's

    figures: dict[str, float] = {}
    for kind, text in TURNS.items():
        time.sleep(args.settle_seconds)
        before = scrape(sources)
        turns = Turns()
        for elapsed, timing in conversations(client, text, args.turns, args.per_conversation):
            turns.total.append(elapsed)
            turns.rasa.append(timing.get("rasa", 0.0))
            turns.core.append(timing.get("total", 0.0) - timing.get("rasa", 0.0))
        time.sleep(args.settle_seconds)
        after = scrape(sources)
        per_turn = {name: (after[name] - before.get(name, 0.0)) * 1000 / args.turns for name in after}
        row = {"total": statistics.median(turns.total), "core": statistics.median(turns.core),
               "rasa": statistics.median(turns.rasa), "actions": per_turn["action_run_seconds"],
               "core_calls": per_turn["action_core_call_seconds"],
               "token_exchange": per_turn.get(f"action_core_call_seconds:{GRANT_EXCHANGE_PATH}", 0.0),
               "redaction": per_turn["bankbot_redaction_seconds"]}
        row["rasa_only"] = max(row["rasa"] - row["actions"], 0.0)
        phase = {p: per_turn.get(f"rasa_phase_seconds:{p}", 0.0) for p in
                 ("turn", "processing", "nlu", "policies", "actions", "tracker_load", "tracker_save")}
        row.update({"rasa_nlu": phase["nlu"], "rasa_policies": phase["policies"],
                    "rasa_tracker": phase["tracker_load"] + phase["tracker_save"],
                    "rasa_lock": max(phase["turn"] - phase["processing"], 0.0),
                    # Rasa's own view of running the actions: the action server's run plus the HTTP to it,
                    # and the responses (utter_*) it renders itself.
                    "rasa_actions": phase["actions"]})
        print(f"{kind:9} " + "  ".join(f"{name}={value:.1f}ms" for name, value in row.items()), flush=True)
        figures.update({f"{kind}_{name}_ms": value for name, value in row.items()})

    slowest_kind = max(TURNS, key=lambda k: figures[f"{k}_total_ms"])
    parts = ("core", "actions", "rasa_nlu", "rasa_policies", "rasa_tracker", "rasa_lock")
    slowest_part = max(parts, key=lambda p: figures[f"{slowest_kind}_{p}_ms"])
    print(" ".join(f"{name}={value:.1f}" for name, value in figures.items())
          + f" slowest={slowest_kind}.{slowest_part}")


if __name__ == "__main__":
    main()
