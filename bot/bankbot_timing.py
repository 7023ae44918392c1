"""Where Rasa's share of a chat turn goes: `rasa_phase_seconds{phase}`, at GET /webhooks/rest/metrics.

    turn            Agent.handle_message: the whole turn in Rasa, waiting for the conversation's lock included
    processing      MessageProcessor.handle_message: the turn once the lock is held (turn - processing = lock)
    tracker_load    fetch_tracker_and_update_session: the tracker from Redis, and a session start if due
    nlu             parse_message: the NLU pipeline
    policies        predict_next_with_tracker_if_should: the policy ensemble, once per predicted action
    actions         _run_action: each action, a call to the action server for custom ones
    tracker_save    save_tracker: the tracker to Redis, and the new events to the event broker

Timed by wrapping those methods of Rasa 3.6 (pinned, requirements/bot.txt) when bankbot_channel is
loaded: no custom component, no change to the model. A method missing in another Rasa version is left
alone and named in a warning, so Rasa still starts. Served by the REST channel's blueprint on Rasa's
port (loopback only, like the REST webhook itself).
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable
from typing import Any

from actions.telemetry import Histogram

logger = logging.getLogger(__name__)

PHASES = Histogram("rasa_phase_seconds", "Parts of a chat turn inside Rasa", "phase")
_installed = False


def _timed(phase: str, method: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(method):
        @functools.wraps(method)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                PHASES.observe(phase, time.perf_counter() - started)
        return timed_async

    @functools.wraps(method)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            PHASES.observe(phase, time.perf_counter() - started)
    return timed


def install() -> None:
    """Wrap the methods once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    from rasa.core.agent import Agent
    from rasa.core.processor import MessageProcessor

    targets = [(Agent, "handle_message", "turn"), (MessageProcessor, "handle_message", "processing"),
               (MessageProcessor, "fetch_tracker_and_update_session", "tracker_load"),
               (MessageProcessor, "parse_message", "nlu"),
               (MessageProcessor, "predict_next_with_tracker_if_should", "policies"),
               (MessageProcessor, "_run_action", "actions"), (MessageProcessor, "save_tracker", "tracker_save")]
    for cls, name, phase in targets:
        method = cls.__dict__.get(name)
        if method is None:
            logger.warning("rasa_phase_seconds: %s.%s not found; phase %s is not timed", cls.__name__, name, phase)
            continue
        setattr(cls, name, _timed(phase, method))


def exposition() -> str:
    return "\n".join(PHASES.exposition()) + "\n"
