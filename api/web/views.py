"""The customer's web chat page (static; it talks to the same /v1 API as every other client)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/chat")


@router.get("/chat")
def chat_page() -> FileResponse:
    return FileResponse(STATIC / "chat.html", media_type="text/html",
                        headers={"Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                 "script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
                                 "Cache-Control": "no-store"})


@router.get("/static/chat.js")
def chat_script() -> FileResponse:
    return FileResponse(STATIC / "chat.js", media_type="text/javascript")
