"""The customer's web chat page and the agents' console (static; they use the same /v1 API as any client)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/chat")


PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'; "
                "connect-src 'self'; frame-ancestors 'none'", "Cache-Control": "no-store"}


@router.get("/chat")
def chat_page() -> FileResponse:
    return FileResponse(STATIC / "chat.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/console")
def console_page() -> FileResponse:
    """The support agents' console: handoff queue, redacted transcript, answer, hand back."""
    return FileResponse(STATIC / "console.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/static/chat.js")
def chat_script() -> FileResponse:
    return FileResponse(STATIC / "chat.js", media_type="text/javascript")


@router.get("/static/console.js")
def console_script() -> FileResponse:
    return FileResponse(STATIC / "console.js", media_type="text/javascript")
