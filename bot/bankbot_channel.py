"""Rasa's REST channel, binding the core's request id for the turn (credentials.yml).

The same channel as Rasa's `rest` (same name, same URL `/webhooks/rest/webhook`), plus one step:
RestInput calls `get_metadata` in the request's own task before it hands the message to the agent,
so the id bound here is on every log line of the turn (NLU, policies, the action call, the tracker
store), see bankbot_correlation.py. One INFO line per message names the conversation and the request
id, never the text: the id can then be followed from the core's log into Rasa's and the action server's.
It also serves GET /webhooks/rest/metrics: where Rasa's share of a turn goes (bankbot_timing.py), and
installs bankbot_action_calls.py (the action server's responses validated without rebuilding the schema's
validator on every call, and one kept-alive session to it) and bankbot_events.py (an event's class by name
without walking the class tree each time) and bankbot_graph.py (the prediction graph run in order, without
dask's scheduler per message), and limits numpy's BLAS to one thread (bankbot_blas.py: its second thread
spun after every product of a parse).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

import bankbot_action_calls
import bankbot_blas
import bankbot_correlation
import bankbot_events
import bankbot_graph
import bankbot_logging  # noqa: F401 - installs the PII log filter in the Rasa process
import bankbot_timing

logger = logging.getLogger(__name__)
bankbot_timing.install()  # rasa_phase_seconds: NLU, policies, tracker, actions (bankbot_timing.py)
bankbot_action_calls.install()  # one response validator and one kept-alive session for the action server
bankbot_events.install()  # event classes by name from a dict, not a walk of Event's subclasses per event
bankbot_graph.install()  # the NLU and policy graphs run node by node in a planned order, not through dask
bankbot_blas.install()  # matrix products on the calling thread: OpenBLAS's second thread spun after each


async def _metrics(_: Request) -> HTTPResponse:
    return response.text(bankbot_timing.exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")


class CorrelatedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"  # the URL and the events' input_channel stay those of Rasa's REST channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """Rasa's REST routes, plus GET /webhooks/rest/metrics (rasa_phase_seconds)."""
        blueprint = super().blueprint(on_new_message)
        blueprint.add_route(_metrics, "/metrics", methods=["GET"])
        return blueprint

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = super().get_metadata(request)
        bankbot_correlation.current.set(bankbot_correlation.from_metadata(metadata))
        body = request.json if isinstance(request.json, dict) else {}
        # The sender is the core's conversation id (a UUID); anything else is not written to the log.
        logger.info("message received for conversation %s", bankbot_correlation.valid(body.get("sender")) or "?")
        return metadata
