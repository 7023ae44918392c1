"""A small mixed load on a running stack: transfers between one customer's own accounts and chat turns.

Used by the restart test (tests/restarts/) and `make soak` (bench/soak.py). Plain threads with httpx: the
point is what the clients see while services stop and start, not the highest rate (`make bench-chat`).

Transfers follow the Idempotency-Key contract as a careful client would: a new key per transfer, and
on a retryable failure (connection error, timeout, 502/503/504, 409 "same key in flight") the SAME key
and body again until 201. A key is never abandoned once sent, even when the load is told to stop: an
abandoned key could have been executed without the client knowing, which is exactly what the restart
test checks against the database.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from data.seed import DEMO_PASSWORD

RETRYABLE_STATUS = frozenset({409, 502, 503, 504})
RETRY_BACKOFF_SECONDS = 0.2  # a client's pause before retrying, so a restarting service is not hammered
KEY_GIVE_UP_SECONDS = 240  # longer than any restart here (Rasa's is the slowest); then it is an error
CHAT_SCRIPT = ("what's my balance?", "how much did I spend on coffee last month?", "show my last 3 payments")


def login(core_url: str, username: str) -> str:
    """A demo customer's token (the demo data's password, DESIGN.md)."""
    response = httpx.post(f"{core_url}/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD},
                          timeout=60)
    response.raise_for_status()
    return str(response.json()["access_token"])


def own_accounts(core_url: str, token: str) -> tuple[str, str]:
    """The customer's checking and savings account ids."""
    response = httpx.get(f"{core_url}/v1/accounts", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    response.raise_for_status()
    by_type = {a["type"]: a["id"] for a in response.json()}
    return by_type["checking"], by_type["savings"]


def retryable(outcome: httpx.Response | httpx.TransportError) -> bool:
    return isinstance(outcome, httpx.TransportError) or outcome.status_code in RETRYABLE_STATUS


def describe(outcome: httpx.Response | httpx.TransportError) -> str:
    if isinstance(outcome, httpx.TransportError):
        return type(outcome).__name__
    return str(outcome.status_code)


@dataclass
class Tally:
    """What the clients saw; shared by every load thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    ok: Counter[str] = field(default_factory=Counter)  # kind ("transfer", "chat") -> successes
    retried: Counter[str] = field(default_factory=Counter)  # "kind status-or-exception" -> count
    errors: list[str] = field(default_factory=list)  # not retryable, or a key given up: each one a failure
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)  # Idempotency-Key -> the 201 body
    sent: dict[str, dict[str, str]] = field(default_factory=dict)  # Idempotency-Key -> the body sent
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: {"transfer": [], "chat": []})
    ok_at: dict[str, list[float]] = field(default_factory=lambda: {"transfer": [], "chat": []})  # monotonic
    in_flight: dict[str, int] = field(default_factory=Counter)

    def success(self, kind: str, started: float) -> None:
        with self.lock:
            self.ok[kind] += 1
            now = time.monotonic()
            self.ok_at[kind].append(now)
            self.latencies_ms[kind].append((now - started) * 1000)

    def retry(self, kind: str, outcome: httpx.Response | httpx.TransportError, why: str = "") -> None:
        with self.lock:
            self.retried[f"{kind} {why or describe(outcome)}"] += 1

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)

    def longest_gap(self, kind: str, since: float, until: float) -> float:
        """The longest time between `since` and `until` without a `kind` success: how long clients waited."""
        with self.lock:
            times = [since, *(t for t in self.ok_at[kind] if since < t < until), until]
        return max(b - a for a, b in itertools.pairwise(times))

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.ok)


@dataclass
class Load:
    """Transfer and chat threads against `core_url` as one customer (its token), until stop()."""

    core_url: str
    token: str
    accounts: tuple[str, str]
    transfer_threads: int = 2
    chat_threads: int = 2
    transfers_per_s: float | None = None  # None: as fast as the answers come
    turns_per_s: float | None = None
    # One customer per chat thread when given: the core answers at most CHAT_MAX_IN_FLIGHT (2) turns of one
    # customer at a time (429 too_many_in_flight beyond), as a person types one message at a time.
    chat_tokens: list[str] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    _stop: threading.Event = field(default_factory=threading.Event)
    _chat_paused: bool = False  # guarded by _chat_idle, like the in-flight count, so a pause is exact
    _chat_idle: threading.Condition = field(default_factory=threading.Condition)
    _threads: list[threading.Thread] = field(default_factory=list)
    _amounts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def start(self) -> None:
        for n in range(self.transfer_threads):
            self._spawn(f"transfer-{n}", self._transfers, n,
                        self._interval(self.transfers_per_s, self.transfer_threads))
        for n in range(self.chat_threads):
            self._spawn(f"chat-{n}", self._chats, n, self._interval(self.turns_per_s, self.chat_threads))

    def stop(self, timeout: float = KEY_GIVE_UP_SECONDS + 60) -> None:
        self._stop.set()
        self.resume_chat()
        for thread in self._threads:
            thread.join(timeout)
        assert not any(t.is_alive() for t in self._threads), "a load thread did not finish"

    def pause_chat(self, timeout: float = 120) -> None:
        """No new chat turn starts, and none is in flight when this returns."""
        with self._chat_idle:
            self._chat_paused = True
            assert self._chat_idle.wait_for(lambda: self.tally.in_flight["chat"] == 0, timeout), "chat turns hang"

    def resume_chat(self) -> None:
        with self._chat_idle:
            self._chat_paused = False
            self._chat_idle.notify_all()

    def wait_for(self, kind: str, more_than: int, timeout: float) -> float:
        """Seconds until `kind` has more than `more_than` successes; AssertionError after `timeout`."""
        started = time.monotonic()
        while self.tally.snapshot().get(kind, 0) <= more_than:
            assert time.monotonic() - started < timeout, f"no {kind} succeeded for {timeout:.0f} s: {self.tally.errors}"
            assert not self.tally.errors, self.tally.errors
            time.sleep(0.05)
        return time.monotonic() - started

    @staticmethod
    def _interval(rate: float | None, threads: int) -> float:
        return 0.0 if not rate else threads / rate

    def _spawn(self, name: str, target: Callable[[int, float], None], n: int, interval: float) -> None:
        thread = threading.Thread(target=target, args=(n, interval), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _paced(self, interval: float) -> Callable[[], None]:
        """Sleeps to the thread's next slot (open-loop pacing), or not at all at full speed."""
        next_at = time.monotonic()

        def wait() -> None:
            nonlocal next_at
            next_at = max(next_at + interval, time.monotonic() - interval)  # no burst after a stall
            if interval:
                self._stop.wait(max(0.0, next_at - time.monotonic()))
        return wait

    def _transfers(self, n: int, interval: float) -> None:
        pace = self._paced(interval)
        with httpx.Client(base_url=self.core_url, timeout=30, headers=self._headers()) as client:
            while not self._stop.is_set():
                cents = next(self._amounts) % 97 + 1
                # Alternate the direction, so the load can run for as long as wanted on the demo balances.
                source, target = self.accounts if cents % 2 else self.accounts[::-1]
                self._one_transfer(client, {"from_account_id": source, "to_account_id": target,
                                            "amount": f"0.{cents:02d}", "currency": "EUR"})
                pace()

    def _one_transfer(self, client: httpx.Client, body: dict[str, str]) -> None:
        key = str(uuid.uuid4())
        with self.tally.lock:
            self.tally.sent[key] = body
        started = time.monotonic()
        while True:  # the same key until it is decided: never abandoned, whatever the stop flag says
            try:
                outcome: httpx.Response | httpx.TransportError = client.post(
                    "/v1/transfers", json=body, headers={"Idempotency-Key": key})
            except httpx.TransportError as exc:
                outcome = exc
            if isinstance(outcome, httpx.Response) and outcome.status_code == 201:
                with self.tally.lock:
                    self.tally.transfers[key] = outcome.json()
                self.tally.success("transfer", started)
                return
            if not retryable(outcome):
                self.tally.error(f"transfer {key}: {describe(outcome)} {getattr(outcome, 'text', '')[:300]}")
                return
            if time.monotonic() - started > KEY_GIVE_UP_SECONDS:
                self.tally.error(f"transfer {key}: still {describe(outcome)} after {KEY_GIVE_UP_SECONDS} s")
                return
            self.tally.retry("transfer", outcome)
            time.sleep(RETRY_BACKOFF_SECONDS)

    def _chats(self, n: int, interval: float) -> None:
        pace = self._paced(interval)
        conversation: str | None = None
        token = self.chat_tokens[n % len(self.chat_tokens)] if self.chat_tokens else self.token
        with httpx.Client(base_url=self.core_url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
            for turn in itertools.count():
                if turn % len(CHAT_SCRIPT) == 0:
                    conversation = None  # a new conversation every few turns: trackers stay short
                if not self._enter_turn():
                    return
                conversation = self._one_turn(client, CHAT_SCRIPT[turn % len(CHAT_SCRIPT)], conversation)
                pace()

    def _enter_turn(self) -> bool:
        """Wait while chat is paused, then count this turn in flight; False once the load stops."""
        with self._chat_idle:
            self._chat_idle.wait_for(lambda: not self._chat_paused or self._stop.is_set())
            if self._stop.is_set():
                return False
            self.tally.in_flight["chat"] += 1
            return True

    def _one_turn(self, client: httpx.Client, text: str, conversation: str | None) -> str | None:
        body = {"text": text, **({"conversation_id": conversation} if conversation else {})}
        started = time.monotonic()
        try:
            try:
                outcome: httpx.Response | httpx.TransportError = client.post("/v1/chat/messages", json=body)
            except httpx.TransportError as exc:
                outcome = exc
            if isinstance(outcome, httpx.Response) and outcome.status_code == 200:
                answer = outcome.json()
                if not any(m.get("text") for m in answer["messages"]):
                    # Rasa answers 200 without words when a custom action failed (the action server was
                    # away): the customer would ask again, so it counts as a retried turn, not a success.
                    self.tally.retry("chat", outcome, "no answer")
                    return conversation
                self.tally.success("chat", started)
                return str(answer["conversation_id"])
            if retryable(outcome):
                self.tally.retry("chat", outcome)
                time.sleep(RETRY_BACKOFF_SECONDS)
                return conversation
            self.tally.error(f"chat {text!r}: {describe(outcome)} {getattr(outcome, 'text', '')[:300]}")
            return conversation
        finally:
            with self._chat_idle:
                self.tally.in_flight["chat"] -= 1
                self._chat_idle.notify_all()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
