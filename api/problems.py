"""RFC 9457 problem details: every error leaves the core as application/problem+json."""

from __future__ import annotations

from typing import Any

import psycopg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_BASE = "https://bankbot.example/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"

log = structlog.get_logger(__name__)


class Problem(Exception):
    """An error the client can act on. `code` is machine-readable and also the last part of `type`."""

    def __init__(self, status: int, code: str, title: str, detail: str | None = None, *,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        assert 400 <= status <= 599, status
        super().__init__(title)
        self.status, self.code, self.title, self.detail, self.extra = status, code, title, detail, extra
        self.headers = headers

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": PROBLEM_BASE + self.code, "title": self.title, "status": self.status,
                                "code": self.code}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


def problem_response(problem: Problem, request: Request | None = None,
                     headers: dict[str, str] | None = None) -> JSONResponse:
    instance = request.url.path if request is not None else None
    return JSONResponse(problem.body(instance), status_code=problem.status, media_type=PROBLEM_CONTENT_TYPE,
                        headers=headers)


_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "payload_too_large",
                 415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited"}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Never echo the rejected input back: it may hold personal data.
    return [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()][:20]


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        malformed = any(e["type"] in ("json_invalid", "model_attributes_type") for e in errors)
        problem = Problem(400 if malformed else 422, "malformed_request" if malformed else "validation_error",
                          "The request body is not valid JSON" if malformed else "The request is not valid",
                          errors=errors)
        return problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(Problem(exc.status_code, code, detail or code.replace("_", " "), None), request,
                                headers=getattr(exc, "headers", None))

    @app.exception_handler(DataError)
    @app.exception_handler(psycopg.DataError)
    async def _bad_data(request: Request, exc: Exception) -> JSONResponse:
        # The database refused a value (a NUL byte, an out-of-range number): the input's fault, and the
        # transaction is rolled back, so nothing changed.
        log.warning("database_refused_value", path=request.url.path, error=type(getattr(exc, "orig", exc)).__name__)
        return problem_response(Problem(422, "invalid_input", "A value in the request cannot be stored"), request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return problem_response(Problem(500, "internal_error", "Internal error"), request)
