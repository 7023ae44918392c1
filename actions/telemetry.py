"""The action server's timings as Prometheus histograms, standard library only.

    action_run_seconds{action}        one action's run, as the server answers Rasa (actions/server.py)
    action_core_call_seconds{path}    each call to the core, by path template (actions/core_client.py)

Served at `/metrics` of the action server (text format 0.0.4). Not prometheus_client: it is not in
.venv-bot, and a change to requirements/bot.txt retrains the Rasa model (scripts/train.py hashes it).
The server runs one Sanic worker, so one process holds every sample and no multiprocess mode is needed.

Label values are bounded: actions are names Rasa asks for (an authenticated caller, the domain's
actions), anything unlike an action name is `other`; core paths have their ids replaced by `{id}`.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterable

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_SERIES = 200  # per histogram: a bug that invents label values cannot grow memory without bound
_ACTION = re.compile(r"^(action|validate|utter)_[a-z0-9_]{1,60}$")
_ID_SEGMENT = re.compile(r"^(?:[0-9a-fA-F-]{32,36}|\d+|[A-Za-z0-9_-]{20,})$")  # uuids, numbers, opaque ids


class Histogram:
    def __init__(self, name: str, documentation: str, label: str, buckets: Iterable[float] = BUCKETS) -> None:
        self.name, self.documentation, self.label = name, documentation, label
        self.buckets = tuple(buckets)
        self._series: dict[str, tuple[list[int], list[float]]] = {}  # value -> (bucket counts, [sum])
        self._lock = threading.Lock()

    def observe(self, label_value: str, seconds: float) -> None:
        with self._lock:
            series = self._series.get(label_value)
            if series is None:
                if len(self._series) >= MAX_SERIES:
                    label_value = "other"
                series = self._series.setdefault(label_value, ([0] * (len(self.buckets) + 1), [0.0]))
            series[0][bisect.bisect_left(self.buckets, seconds)] += 1
            series[1][0] += seconds

    def exposition(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.documentation}", f"# TYPE {self.name} histogram"]
        with self._lock:
            for value, (counts, total) in sorted(self._series.items()):
                label = f'{self.label}="{value}"'
                cumulative = 0
                for bound, count in zip((*self.buckets, float("inf")), counts, strict=True):
                    cumulative += count
                    le = "+Inf" if bound == float("inf") else repr(bound)
                    lines.append(f'{self.name}_bucket{{{label},le="{le}"}} {cumulative}')
                lines.append(f"{self.name}_sum{{{label}}} {total[0]!r}")
                lines.append(f"{self.name}_count{{{label}}} {cumulative}")
        return lines


ACTION_RUN = Histogram("action_run_seconds", "Time to run one action, as answered to Rasa", "action")
CORE_CALL = Histogram("action_core_call_seconds", "Time of each call the actions make to the core", "path")


def action_label(name: object) -> str:
    return name if isinstance(name, str) and _ACTION.fullmatch(name) else "other"


def path_template(path: str) -> str:
    """`/v1/cards/3f2c.../freeze` -> `/v1/cards/{id}/freeze`: a bounded label (no ids, no query)."""
    segments = path.split("?", 1)[0].split("/")
    return "/".join("{id}" if _ID_SEGMENT.fullmatch(s) else s for s in segments)[:80]


def exposition() -> str:
    return "\n".join([*ACTION_RUN.exposition(), *CORE_CALL.exposition()]) + "\n"
