"""application/problem+json errors, the only shape an error leaves the sandbox in."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_BASE = "https://sandbox.bankbot.example/problems/"
CONTENT_TYPE = "application/problem+json"
_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
                 413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_error",
                 429: "rate_limited", 500: "internal_error", 503: "unavailable"}


class Problem(Exception):
    """An error with a machine-readable code."""

    def __init__(self, status: int, code: str, title: str, detail: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(title)
        self.status, self.code, self.title, self.detail, self.headers = status, code, title, detail, headers

    def body(self) -> dict[str, Any]:
        """The problem document."""
        doc: dict[str, Any] = {"type": PROBLEM_BASE + self.code, "title": self.title, "status": self.status,
                               "code": self.code}
        if self.detail:
            doc["detail"] = self.detail
        return doc

    def encoded(self) -> bytes:
        """The problem document as bytes, for raw ASGI answers."""
        return json.dumps(self.body()).encode()


def response(problem: Problem) -> JSONResponse:
    """A Starlette response for a problem."""
    return JSONResponse(problem.body(), status_code=problem.status, media_type=CONTENT_TYPE,
                        headers=problem.headers)


def install(app: FastAPI) -> None:
    """Turn every error into a problem; never leak a traceback."""

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        malformed = any(e.get("type") == "json_invalid" for e in exc.errors())
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
                           for e in exc.errors()[:10])[:1000]
        if malformed:
            return response(Problem(400, "malformed_request", "The request body is not valid JSON"))
        return response(Problem(422, "validation_error", "The request is not valid", detail))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        return response(Problem(exc.status_code, code, code.replace("_", " ")))
