"""Rasa 3.6's calls to the action server, without the work it repeats on every call.

Profiled with py-spy during balance and spending turns (docs/benchmarks.md, "Where a chat turn's time
goes"), Rasa spent about 45 % of a turn's CPU in `RemoteAction._validate_action_result`: it calls
`jsonschema.validate(result, schema)`, which first checks the schema itself against its metaschema and
builds a new validator, on every action call. Here the schema is checked once and one validator is kept
for the process; every response is still validated against the same schema, with the same error.

`EndpointConfig.request` also opens a new aiohttp session (a new connection) for each call, about
2.6 ms more than a kept-alive one on this machine. The action endpoint's requests share one session per
event loop instead, with the same headers and timeout as Rasa's own.

Installed when bankbot_channel is loaded (credentials.yml), like bankbot_timing. A method missing in
another Rasa version is left alone and named in a warning, so Rasa still starts.
"""

from __future__ import annotations

import asyncio
import logging
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


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """As Rasa's own (same schema, same ValidationError and message), with the validator built once."""
    from jsonschema import ValidationError
    from rasa.shared.constants import DOCS_BASE_URL

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
