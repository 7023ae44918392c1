"""Where a chat turn's time goes in the core: a Server-Timing header and bankbot_chat_phase_seconds.

    Server-Timing: db;dur=3.1, grant;dur=0.4, rasa;dur=41.7, total;dur=46.0

`rasa` is the whole relay (NLU, policies, the action server and the actions' calls back to the core);
`grant` the Redis grant for the action server; `db` the conversation and handoff reads and commits;
`total` all of send_message. The header lets a benchmark (bench/turn_breakdown.py) split each turn it
measures without scraping; the histogram is the same split over all turns, for every channel.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Phases:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - started

    def finish(self) -> float:
        """The turn's total so far (set once: a later call keeps the first value)."""
        return self.seconds.setdefault("total", time.perf_counter() - self.started)

    def server_timing(self) -> str:
        return ", ".join(f"{phase};dur={seconds * 1000:.1f}" for phase, seconds in self.seconds.items())
