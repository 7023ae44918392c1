"""JSON logs through structlog, with the request id bound by the middleware."""

from __future__ import annotations

import logging
import sys

import structlog

from api.privacy import logfilter
from api.privacy.structlog_processor import RedactProcessor


def configure(level: str = "INFO") -> None:
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        RedactProcessor(),  # message-like fields dropped, everything else regex-redacted (docs/privacy.md)
        structlog.processors.JSONRenderer(),
    ]
    structlog.configure(processors=processors, logger_factory=structlog.PrintLoggerFactory(sys.stdout),
                        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
                        cache_logger_on_first_use=True)
    logging.basicConfig(level=level, stream=sys.stdout, format="%(message)s")
    logfilter.install(logging.getLogger())
    # uvicorn's access log prints full URLs; query strings may carry personal data, so it stays off
    # (the structlog request line below logs the path template instead).
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request's full URL at INFO; Rasa's HTTP API takes its token in the query string.
    logging.getLogger("httpx").setLevel(logging.WARNING)
