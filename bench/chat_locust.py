"""Locust users for `make bench-chat` (bench/chat_bench.py runs this file headless, one level at a time).

BankCustomer: one synthetic customer per virtual user (BENCH_USERS, signed in once), each script a new
conversation through POST /v1/chat/messages: balance, a spending question and its follow-up, a search, a
transfer between own accounts with its confirmation, a lost-card report declined, an FAQ. Requests are
named by turn type, so Locust's statistics are per turn type.

StockRasaUser (BENCH_TARGET=stock): the `rasa init` bot's own stories through Rasa's REST webhook, one
sender per script, as the stock bot is meant to be talked to.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid

from locust import HttpUser, constant, events, task

USERS = [u for u in os.environ.get("BENCH_USERS", "").split(",") if u]
PASSWORD = os.environ.get("BENCH_PASSWORD", "demo-password")
_next_user = itertools.count()

# (turn type, text): one conversation each; a follow-up continues the conversation before it.
SCRIPT = [
    ("balance", "what's my balance"),
    ("spending", "how much did I spend on groceries last month"),
    ("followup", "and in October?"),
    ("search", "show my last five payments"),
    ("transfer", "move 2 euros from my checking account to my savings account"),
    ("confirm", "yes"),
    ("fraud", "I lost my card"),
    ("fraud", "no"),
    ("faq", "how long does a card delivery take"),
]
STOCK_SCRIPT = [("greet", "hello"), ("mood", "I am feeling great"), ("mood", "I am sad"),
                ("affirm", "yes"), ("goodbye", "bye")]


class BankCustomer(HttpUser):
    wait_time = constant(0)  # closed loop: each virtual customer sends its next message as soon as answered

    def on_start(self) -> None:
        username = USERS[next(_next_user) % len(USERS)]
        response = self.client.post("/v1/auth/token", data={"username": username, "password": PASSWORD},
                                    name="login")
        response.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    @task
    def conversation(self) -> None:
        conversation_id = None
        for turn, text in SCRIPT:
            body = {"text": text, **({"conversation_id": conversation_id} if conversation_id else {})}
            with self.client.post("/v1/chat/messages", json=body, name=turn, catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"{response.status_code}")
                    return
                answer = response.json()
                if not answer.get("messages") and not answer.get("handoff"):
                    response.failure("no answer")
                conversation_id = answer["conversation_id"]


class StockRasaUser(HttpUser):
    wait_time = constant(0)

    @task
    def conversation(self) -> None:
        sender = uuid.uuid4().hex
        for turn, text in STOCK_SCRIPT:
            with self.client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text}, name=turn,
                                  catch_response=True) as response:
                if response.status_code != 200 or not response.json():
                    response.failure(f"{response.status_code}")
                    return


if os.environ.get("BENCH_TARGET") == "stock":
    BankCustomer.abstract = True  # type: ignore[attr-defined]
else:
    StockRasaUser.abstract = True  # type: ignore[attr-defined]


# Every turn's latency, written out when the run ends (BENCH_SAMPLES): exact percentiles, not Locust's
# rounded histogram, and the run's own first and last moments for the throughput.
_samples: list[tuple[str, float, float, bool]] = []


@events.request.add_listener
def _record(request_type: str, name: str, response_time: float, response_length: int, exception: object = None,
            **_: object) -> None:
    if name != "login":
        _samples.append((name, time.time(), response_time, exception is None))


@events.quitting.add_listener
def _write(**_: object) -> None:
    path = os.environ.get("BENCH_SAMPLES")
    if path:
        with open(path, "w") as out:
            json.dump(_samples, out)
