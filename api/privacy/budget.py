"""A time budget per redaction, failing closed: past the budget the stored line is a placeholder.

Design: cooperative deadline checks, not a worker process. Every pattern the engine runs is linear
in the text (tests/privacy/test_linear_patterns.py holds each of them to a small time on 2,000 and
8,000 character adversarial input), so each step between two checks (one rule's pass over the text,
one phone candidate, the analyzer, the anonymizer) is bounded by milliseconds. The checks sit between
those steps: `RuleRecognizer.analyze` before each rule, `FastPhoneRecognizer` before each candidate,
and `redact_within` before and after the anonymizer; a run that ends past its budget is thrown away
too, whatever happened inside, so a raw line can never be stored because the budget ran out. A worker
process with a hard kill would also stop a step that is not bounded, but every core worker would need
a second warmed-up Presidio (2-3 s start, some 150 MB) and every line would cross a pipe; with every
step linear and tested, the checks give the same guarantee in the same thread.

The placeholder carries an entity-type marker (`REDACTION_TIMEOUT` or `REDACTION_FAILED`) so a reader
can tell what happened, and the event is logged (lengths and elapsed time, never text) and counted in
`bankbot_redaction_fail_closed_total{reason}`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from api.privacy.models import Entity, KnownPII, Mode, RedactionResult

log = logging.getLogger(__name__)

TIMEOUT_MARKER = "REDACTION_TIMEOUT"
FAILED_MARKER = "REDACTION_FAILED"
PLACEHOLDERS = {TIMEOUT_MARKER: "[redaction timed out]", FAILED_MARKER: "[redaction failed]"}
DEFAULT_BUDGET_SECONDS = 1.0


class RedactionTimeout(Exception):
    """The redaction of one text ran past its budget."""


_local = threading.local()


def check_deadline() -> None:
    """Called between the steps of a redaction; raises once the current budget is spent."""
    deadline = getattr(_local, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise RedactionTimeout


@contextmanager
def deadline_after(seconds: float) -> Iterator[None]:
    previous = getattr(_local, "deadline", None)
    _local.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.deadline = previous


try:  # the core has prometheus_client; the bot's environment never imports this module
    from prometheus_client import Counter, Histogram

    FAIL_CLOSED = Counter("bankbot_redaction_fail_closed_total",
                          "Lines stored as a placeholder because their redaction timed out or failed", ["reason"])
    # Every redaction within a budget (transcript lines, agent lines), whatever its outcome.
    SECONDS = Histogram("bankbot_redaction_seconds", "Time to redact one line",
                        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
except ImportError:  # pragma: no cover
    FAIL_CLOSED = SECONDS = None


def placeholder(marker: str) -> RedactionResult:
    text = PLACEHOLDERS[marker]
    return RedactionResult(text=text, entities=[Entity(marker, 0, 0)])


def _fail_closed(marker: str, length: int, elapsed: float, error: str | None = None) -> RedactionResult:
    if FAIL_CLOSED is not None:
        FAIL_CLOSED.labels("timeout" if marker == TIMEOUT_MARKER else "error").inc()
    # Never the text, nor the exception's message (it may quote the text): its type, the length, the time.
    log.error("redaction failed closed: reason=%s chars=%d elapsed_ms=%.0f%s", marker, length, elapsed * 1000,
              f" error={error}" if error else "")
    return placeholder(marker)


def redact_within(text: str, *, known: KnownPII | None = None, mode: Mode = "tags",
                  budget_seconds: float = DEFAULT_BUDGET_SECONDS,
                  redact: Callable[..., RedactionResult] | None = None,
                  context: str | None = None) -> RedactionResult:
    """redact(), or a placeholder when it takes longer than `budget_seconds` or raises: never the raw text."""
    if redact is None:
        from api.privacy.redactor import redact
    started = time.monotonic()
    try:
        return _redact_within(text, known, mode, budget_seconds, redact, context, started)
    finally:
        if SECONDS is not None:
            SECONDS.observe(time.monotonic() - started)


def _redact_within(text: str, known: KnownPII | None, mode: Mode, budget_seconds: float,
                   redact: Callable[..., RedactionResult], context: str | None, started: float) -> RedactionResult:
    try:
        with deadline_after(budget_seconds):
            # `context` only when there is one: callers may pass a redact() of their own without it
            result: Any = redact(text, known=known, mode=mode, **({"context": context} if context else {}))
    except RedactionTimeout:
        return _fail_closed(TIMEOUT_MARKER, len(text), time.monotonic() - started)
    except Exception as exc:
        return _fail_closed(FAILED_MARKER, len(text), time.monotonic() - started, type(exc).__name__)
    elapsed = time.monotonic() - started
    if elapsed > budget_seconds:  # finished, but late: the budget is the contract
        return _fail_closed(TIMEOUT_MARKER, len(text), elapsed)
    return result
