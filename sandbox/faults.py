"""Fault kinds, the `X-Sandbox-Fault` header, and seeded draws that make a run replayable."""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

API_KINDS = ("connection_dropped", "timeout_before_effect", "response_lost", "slow_success", "error_500",
             "error_500_after_effect", "error_503", "rate_limited", "truncated_body")
WEBHOOK_KINDS = ("duplicate", "out_of_order", "late", "never", "bad_signature", "unknown_object", "early")
ApiKind = Literal["connection_dropped", "timeout_before_effect", "response_lost", "slow_success", "error_500",
                  "error_500_after_effect", "error_503", "rate_limited", "truncated_body"]
WebhookKind = Literal["duplicate", "out_of_order", "late", "never", "bad_signature", "unknown_object", "early"]
# Kinds whose effect happens before the fault: only these can have their webhook sent `early`.
EARLY_CAPABLE = ("response_lost", "slow_success")
MAX_DRAWS_KEPT = 2000


def parse_header(value: str) -> tuple[str | None, list[str]]:
    """`kind[,kind...]`: at most one API kind, any webhook kinds; ValueError on anything else."""
    api: str | None = None
    hooks: list[str] = []
    for raw in value.split(",")[:8]:
        kind = raw.strip()
        if not kind:
            continue
        if kind in API_KINDS:
            if api is not None:
                raise ValueError("at most one API fault kind per call")
            api = kind
        elif kind in WEBHOOK_KINDS:
            if kind not in hooks:
                hooks.append(kind)
        else:
            raise ValueError(f"unknown fault kind {kind[:40]!r}")
    return api, hooks


@dataclass
class FaultConfig:
    """What `POST /sandbox/faults` set."""

    rate: float = 0.0
    seed: int = 0
    kinds: list[str] = field(default_factory=lambda: list(API_KINDS))
    webhook_rate: float = 0.0
    webhook_kinds: list[str] = field(default_factory=lambda: [k for k in WEBHOOK_KINDS if k != "early"])

    def as_dict(self) -> dict[str, Any]:
        """JSON form, as stored and answered."""
        return {"rate": self.rate, "seed": self.seed, "kinds": self.kinds, "webhook_rate": self.webhook_rate,
                "webhook_kinds": self.webhook_kinds}


class FaultDrawer:
    """Draws faults from two seeded sequences (API calls, webhook events); a lock keeps each sequence whole."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.config: FaultConfig | None = None
        self._api_rng = random.Random(0)
        self._hook_rng = random.Random(0)
        self._n = 0
        self.draws: deque[dict[str, Any]] = deque(maxlen=MAX_DRAWS_KEPT)

    def configure(self, config: FaultConfig | None) -> None:
        """Start both sequences afresh from the seed (None: no rate faults)."""
        with self._lock:
            self.config = config
            seed = config.seed if config else 0
            # Webhook events are made by the ticker while API calls arrive: two sequences, so the interleaving
            # of the two never changes either one.
            self._api_rng = random.Random(seed)
            self._hook_rng = random.Random(f"{seed}:webhooks")
            self._n = 0
            self.draws.clear()

    def draw_api(self, path: str) -> tuple[str | None, bool]:
        """The API fault for the next call (or None), and whether its webhook goes early."""
        with self._lock:
            cfg = self.config
            if cfg is None or cfg.rate <= 0 or not cfg.kinds:
                return None, False
            kind = self._api_rng.choice(cfg.kinds) if self._api_rng.random() < cfg.rate else None
            early = False
            if kind in EARLY_CAPABLE and "early" in cfg.webhook_kinds and cfg.webhook_rate > 0:
                early = self._api_rng.random() < cfg.webhook_rate
            self._record("api", kind, path)
            return kind, early

    def draw_webhook(self, event_type: str) -> list[str]:
        """The webhook faults for the next event (empty: none)."""
        with self._lock:
            cfg = self.config
            kinds = [k for k in (cfg.webhook_kinds if cfg else []) if k != "early"]
            if cfg is None or cfg.webhook_rate <= 0 or not kinds:
                return []
            kind = self._hook_rng.choice(kinds) if self._hook_rng.random() < cfg.webhook_rate else None
            self._record("webhook", kind, event_type)
            return [kind] if kind else []

    def _record(self, target: str, kind: str | None, what: str) -> None:
        self._n += 1
        self.draws.append({"n": self._n, "target": target, "kind": kind, "what": what[:200]})
