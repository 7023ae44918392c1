"""A small HTTP load balancer for the replicated stack (scripts/replicas.py): round robin per request.

    python -m scripts.balancer --listen 18450=http://127.0.0.1:18470,http://127.0.0.1:18490 [--listen ...]

Per request, not per connection: Rasa keeps its connections to the action server open, so a TCP
balancer would pin a conversation to one action server; here consecutive requests alternate, which is
what shows that nothing depends on landing on the same instance twice. An upstream that refuses the
connection is skipped (nothing was sent, so trying the next is safe); any other failure is the
client's 502, never retried (a POST may have been executed). Responses are streamed (the live chat
stream stays open).

`GET /_balancer` on every listener answers its own figures: requests per upstream, and the last
requests as [number, upstream, method, path] (numbered from 1 per listener), which the replica tests
read. No nginx or haproxy is needed on a development machine; in a deployment this is the cloud's or
the cluster's load balancer (docs/scaling.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import httpx
import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Connection-level headers of one hop: never forwarded (RFC 9110, 7.6.1).
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
                        "upgrade", "host", "content-length"})
STATS_PATH = "/_balancer"
RECENT = 500


class Balancer:
    """An ASGI app forwarding every request to the next upstream in turn."""

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self.turn = 0
        self.counts: Counter[str] = Counter()
        self.recent: deque[tuple[int, str, str, str]] = deque(maxlen=RECENT)
        self.served = 0
        # No read timeout: a chat turn or a live stream may take long; the upstream bounds its own work.
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(None, connect=2.0), follow_redirects=False,
                                        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))

    def order(self) -> Iterator[str]:
        """The upstreams starting with the next in turn (the rest in order, for refused connections)."""
        start, self.turn = self.turn, (self.turn + 1) % len(self.upstreams)
        for i in range(len(self.upstreams)):
            yield self.upstreams[(start + i) % len(self.upstreams)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan and websockets: nothing to do here
            return
        if scope["path"] == STATS_PATH:
            await _respond(send, 200, json.dumps({"counts": dict(self.counts), "served": self.served,
                                                  "recent": list(self.recent)}).encode())
            return
        body = await _read_body(receive)
        path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
                   if k.decode("latin-1").lower() not in HOP_BY_HOP]
        client_host = (scope.get("client") or ("unknown", 0))[0]
        headers.append(("x-forwarded-for", client_host))
        for upstream in self.order():
            request = self.client.build_request(scope["method"], f"{upstream}{path}" + (f"?{query}" if query else ""),
                                                headers=headers, content=body)
            try:
                response = await self.client.send(request, stream=True)
            except httpx.ConnectError:
                continue  # refused: nothing was sent, the next upstream may take it
            except httpx.HTTPError as exc:
                await _respond(send, 502, f"upstream {upstream}: {type(exc).__name__}".encode())
                return
            self.counts[upstream] += 1
            self.served += 1
            self.recent.append((self.served, upstream, scope["method"], scope["path"]))
            try:
                await send({"type": "http.response.start", "status": response.status_code,
                            "headers": [(k.encode("latin-1"), v.encode("latin-1"))
                                        for k, v in response.headers.multi_items() if k.lower() not in HOP_BY_HOP]})
                async for chunk in response.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except httpx.HTTPError:  # the upstream went away mid-answer: end the client's response too
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            finally:
                await response.aclose()
            return
        await _respond(send, 502, b"no upstream accepted the connection")


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes) -> None:
    content_type = b"application/json" if body.startswith(b"{") else b"text/plain"
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})
    await send({"type": "http.response.body", "body": body})


class _Server(uvicorn.Server):
    """Several servers share one event loop: the signals are handled once, for all (see serve_all)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_all(listeners: dict[int, list[str]]) -> None:
    servers = [_Server(uvicorn.Config(Balancer(upstreams), host="127.0.0.1", port=port, lifespan="off",
                                      log_level="warning", access_log=False, timeout_graceful_shutdown=10))
               for port, upstreams in listeners.items()]
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: [setattr(s, "should_exit", True) for s in servers])
    await asyncio.gather(*(server.serve() for server in servers))


def parse_listen(value: str) -> tuple[int, list[str]]:
    port, _, upstreams = value.partition("=")
    urls = [u.rstrip("/") for u in upstreams.split(",") if u]
    if not port.isdigit() or not urls:
        raise argparse.ArgumentTypeError(f"--listen PORT=URL[,URL...], not {value!r}")
    return int(port), urls


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", type=parse_listen, action="append", required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve_all(dict(args.listen)))


if __name__ == "__main__":
    main()
