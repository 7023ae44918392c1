"""The customer's web chat page and the agents' console (static; they use the same /v1 API as any client)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from api.problems import Problem

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)

# Scripts and styles come from this origin only: no inline script, no inline style (the pages' CSS lives in
# chat.css and console.css, so `style-src` needs no 'unsafe-inline'). Live events are read with fetch()
# from the same origin (`connect-src 'self'`).
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; style-src 'self'; script-src 'self'; "
                "connect-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                "frame-ancestors 'none'", "Cache-Control": "no-store"}
# The files a page may load, by name: nothing else under static/ is served.
ASSETS = {"live.js": "text/javascript", "chat.js": "text/javascript", "console.js": "text/javascript",
          "chat.css": "text/css", "console.css": "text/css"}
ASSET_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/chat")


@router.get("/chat")
def chat_page() -> FileResponse:
    """The customer's chat: the bot's answers, and a support agent's lines live during a handoff."""
    return FileResponse(STATIC / "chat.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/console")
def console_page() -> FileResponse:
    """The support agents' console: the live queue, the redacted conversation, the customer's context."""
    return FileResponse(STATIC / "console.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/static/{name}")
def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise Problem(404, "not_found", "No such file")
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers=ASSET_HEADERS)
