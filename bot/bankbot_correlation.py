"""The chat turn's correlation id in the Rasa and action server processes (Python 3.10, stdlib only).

The core puts its request id on each message it relays (`metadata.request_id`, api/chat/service.py).
Rasa's REST channel (bankbot_channel.py) and the action server's request middleware (actions/server.py)
bind it in `current`, a context variable: each Sanic request runs in a task of its own, so the value
lives exactly as long as the turn's request. The action server sends it on as `X-Request-ID` on every
core call (actions/core_client.py), and `install()` appends it to every log line written meanwhile.

Only ids of the core's own shape are accepted (the pattern of api/middleware.py): the metadata comes
from a request body, and a value that reaches log lines must not carry text or format directives.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from typing import Any

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")  # as api/middleware.py: no spaces, no '%', bounded

current: ContextVar[str | None] = ContextVar("bankbot_request_id", default=None)
_installed = False


def valid(value: Any) -> str | None:
    """`value` if it is a well-formed request id, else None."""
    return value if isinstance(value, str) and REQUEST_ID.fullmatch(value) else None


def from_metadata(metadata: Any) -> str | None:
    """The request id of a message's metadata (a dict from Rasa's tracker or the REST body), if well-formed."""
    return valid(metadata.get("request_id")) if isinstance(metadata, dict) else None


def install() -> None:
    """Append ` [request_id=...]` to every log record made while a turn's id is bound.

    A record factory rather than a handler filter: it sees every record of every logger, whichever
    handlers Rasa or Sanic install later. The id matches REQUEST_ID (no '%'), so appending it to a
    format string leaves its placeholders and arguments as they were.
    """
    global _installed
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()

    def with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        request_id = current.get()
        record.request_id = request_id
        if request_id and isinstance(record.msg, str):
            record.msg = f"{record.msg} [request_id={request_id}]"
        return record

    logging.setLogRecordFactory(with_request_id)


install()
