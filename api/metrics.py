"""Prometheus request metrics, labelled by route template (never by raw path: ids would explode it)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from starlette.types import Scope

REQUESTS = Counter("bankbot_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("bankbot_http_request_seconds", "HTTP request latency", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def observe(scope: Scope, status: int, seconds: float) -> None:
    """Count one finished request (api/middleware.py calls this for every HTTP request)."""
    route = getattr(scope.get("route"), "path", None) or "unmatched"
    REQUESTS.labels(scope["method"], route, str(status)).inc()
    LATENCY.labels(scope["method"], route).observe(seconds)
