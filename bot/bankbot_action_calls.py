"""Rasa 3.6's calls to the action server, without the work it repeats on every call.

Profiled with py-spy during balance and spending turns (docs/benchmarks.md, "Where a chat turn's time
goes"), Rasa spent about 45 % of a turn's CPU in `RemoteAction._validate_action_result`: it calls
`jsonschema.validate(result, schema)`, which first checks the schema itself against its metaschema and
builds a new validator, on every action call. Here the schema is checked once and one validator is kept
for the process; every response is still validated against the same schema, with the same error.

The validator itself was still 10 % of Rasa's CPU under load (py-spy, 3 December 2026): each event of a
response is checked against all 23 branches of the event schema's `oneOf` (one per event type), and each
branch that does not match builds a ValidationError. The branches are told apart by the event's name (a
distinct `const` each), so an event is valid exactly when it is valid against the one branch named by its
`event`: `_valid_fast` checks that, and only a response it does not pass (an invalid one, or a shape it does
not know) goes through the full validator, which raises Rasa's error.

`EndpointConfig.request` also opens a new aiohttp session (a new connection) for each call, about
2.6 ms more than a kept-alive one on this machine. The action endpoint's requests share one session per
event loop instead, with the same headers and timeout as Rasa's own.

Installed when bankbot_channel is loaded (credentials.yml), like bankbot_timing. A method missing in
another Rasa version is left alone and named in a warning, so Rasa still starts.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

logger = logging.getLogger(__name__)
_installed = False


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    """The validator of the action server's response format, its schema checked once."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@dataclass(frozen=True)
class _FastCheck:
    events: dict[str, Any]  # event name -> validator of the event schema without `oneOf`, plus that name's branch
    responses: Any  # validator of the `responses` property


@lru_cache(maxsize=1)
def _fast_check() -> _FastCheck | None:
    """Validators that prove a response valid with one branch per event; None if the schema is not of the
    shape this relies on (then every response goes through the full validator)."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    properties = schema.get("properties") or {}
    if set(schema) != {"type", "properties"} or schema["type"] != "object" or set(properties) != {"events",
                                                                                                  "responses"}:
        return None
    events = properties["events"]
    event = events.get("items") or {}
    if set(events) != {"type", "items"} or events["type"] != "array" or not isinstance(event.get("oneOf"), list):
        return None
    common = {key: value for key, value in event.items() if key != "oneOf"}
    by_name: dict[str, Any] = {}
    for branch in event["oneOf"]:
        name = ((branch.get("properties") or {}).get("event") or {}).get("const")
        if not isinstance(name, str) or name in by_name:  # the names must tell the branches apart
            return None
        branch_schema = {"allOf": [common, branch]}
        cls = validator_for(branch_schema)
        cls.check_schema(branch_schema)
        by_name[name] = cls(branch_schema)
    cls = validator_for(properties["responses"])
    cls.check_schema(properties["responses"])
    return _FastCheck(events=by_name, responses=cls(properties["responses"]))


def _valid_fast(result: Any) -> bool:
    """True only for a response the full schema accepts: each event valid against its name's branch (and so
    against exactly one branch of `oneOf`: the others require another name). False means "not shown valid"."""
    check = _fast_check()
    if check is None or not isinstance(result, dict):
        return False
    if "events" in result:
        events = result["events"]
        if not isinstance(events, list):
            return False
        for event in events:
            name = event.get("event") if isinstance(event, dict) else None
            validator = check.events.get(name) if isinstance(name, str) else None
            if validator is None or not validator.is_valid(event):
                return False
    return "responses" not in result or check.responses.is_valid(result["responses"])


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """As Rasa's own (same schema, same ValidationError and message), with the validators built once."""
    from jsonschema import ValidationError
    from rasa.shared.constants import DOCS_BASE_URL

    if _valid_fast(result):
        return True
    try:
        _response_validator().validate(result)
        return True
    except ValidationError as e:
        e.message += (". Failed to validate Action server response from API, make sure your response from the "
                      f"Action endpoint is valid. For more information about the format visit "
                      f"{DOCS_BASE_URL}/custom-actions")
        raise e


class _KeptSession:
    """`async with` over a session that outlives the block: Rasa closes what `session()` returns."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *exc: object) -> None:
        return None


def _kept_session_factory(original: Any) -> Any:
    # Keyed by what the session carries (URL, headers) and the loop: bounded by the endpoints configured.
    sessions: dict[tuple[str, str], tuple[asyncio.AbstractEventLoop, Any]] = {}

    def session(self: Any) -> Any:
        """One session per action endpoint on the running loop; other endpoints' sessions as Rasa makes them."""
        if not getattr(self, "_bankbot_keep_alive", False):
            return original(self)
        loop = asyncio.get_running_loop()
        key = (str(self.url), repr(sorted((self.headers or {}).items())))
        kept_loop, kept = sessions.get(key, (None, None))
        if kept is None or kept.closed or kept_loop is not loop:  # a session belongs to the loop that made it
            kept = original(self)
            sessions[key] = (loop, kept)
        return _KeptSession(kept)

    return session


def keep_alive(endpoint: Any) -> None:
    """Mark an EndpointConfig (the action endpoint) to reuse its session and connections."""
    endpoint._bankbot_keep_alive = True


def install() -> None:
    """Patch once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    if "_validate_action_result" in RemoteAction.__dict__:
        RemoteAction._validate_action_result = _validate_action_result
    else:
        logger.warning("RemoteAction._validate_action_result not found: responses validated as Rasa does")
    if "session" in EndpointConfig.__dict__ and "__init__" in RemoteAction.__dict__:
        EndpointConfig.session = _kept_session_factory(EndpointConfig.session)
        original_init = RemoteAction.__init__

        def init(self: Any, name: str, action_endpoint: Any) -> None:
            original_init(self, name, action_endpoint)
            if action_endpoint is not None:
                keep_alive(action_endpoint)

        RemoteAction.__init__ = init
    else:
        logger.warning("EndpointConfig.session not found: a new session per action call, as Rasa does")
