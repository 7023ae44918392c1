"""JSON logs through structlog, with the request id bound by the middleware."""

from __future__ import annotations

import logging
import sys

import structlog


def configure(level: str = "INFO") -> None:
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(),
    ]
    structlog.configure(processors=processors, logger_factory=structlog.PrintLoggerFactory(sys.stdout),
                        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
                        cache_logger_on_first_use=True)
    logging.basicConfig(level=level, stream=sys.stdout, format="%(message)s")
    # uvicorn's access log prints full URLs; query strings may carry personal data, so it stays off
    # (the structlog request line below logs the path template instead).
    logging.getLogger("uvicorn.access").disabled = True
