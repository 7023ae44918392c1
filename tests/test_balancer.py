"""The replicated stack's balancer (scripts/balancer.py) and layout (scripts/replicas.py), without a stack."""

from __future__ import annotations

import argparse
import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from scripts import stack
from scripts.balancer import Balancer


class _Echo(BaseHTTPRequestHandler):
    """Answers with its own name and what it received, so the test sees which upstream took a request."""

    def do_POST(self) -> None:  # http.server calls do_<METHOD>
        body = self.rfile.read(int(self.headers["Content-Length"]))
        reply = f"{self.server.server_name_tag} {self.path} {body.decode()}".encode()  # type: ignore[attr-defined]
        self.send_response(201)
        self.send_header("Content-Length", str(len(reply)))
        self.send_header("X-Upstream", self.server.server_name_tag)  # type: ignore[attr-defined]
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def upstreams() -> Iterator[list[str]]:
    servers = []
    for tag in ("a", "b"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
        server.server_name_tag = tag  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield [f"http://127.0.0.1:{s.server_address[1]}" for s in servers]
    for server in servers:
        server.shutdown()
        server.server_close()


def _refused_url() -> str:
    with socket.socket() as s:  # bound, then closed: nothing listens there
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


async def _post_through(balancer: Balancer, n: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=balancer), base_url="http://lb") as client:
        answers = [await client.post("/webhook?x=1", content=f"turn {i}") for i in range(n)]
        answers.append(await client.get("/_balancer"))
    await balancer.client.aclose()
    return answers


def test_consecutive_requests_alternate_and_arrive_whole(upstreams: list[str]) -> None:
    *answers, stats = asyncio.run(_post_through(Balancer(upstreams), 4))
    assert [a.status_code for a in answers] == [201] * 4
    assert [a.text for a in answers] == ["a /webhook?x=1 turn 0", "b /webhook?x=1 turn 1",
                                         "a /webhook?x=1 turn 2", "b /webhook?x=1 turn 3"]
    assert answers[0].headers["x-upstream"] == "a"
    figures = stats.json()
    assert figures["counts"] == {upstreams[0]: 2, upstreams[1]: 2} and figures["served"] == 4
    assert [r[0] for r in figures["recent"]] == [1, 2, 3, 4] and figures["recent"][1][1:] == [
        upstreams[1], "POST", "/webhook"]


def test_an_upstream_that_refuses_is_skipped(upstreams: list[str]) -> None:
    *answers, stats = asyncio.run(_post_through(Balancer([_refused_url(), upstreams[0]]), 3))
    assert [a.status_code for a in answers] == [201] * 3  # nothing was sent to the dead one: safe to move on
    assert stats.json()["counts"] == {upstreams[0]: 3}


def test_no_upstream_is_a_502() -> None:
    *answers, _ = asyncio.run(_post_through(Balancer([_refused_url()]), 1))
    assert answers[0].status_code == 502


REPLICATED = argparse.Namespace(name="unit", core_port=18450, rasa_port=18455, actions_port=18460, core_workers=1,
                                saga_workers=2, sandbox_port=18580, database_url="postgresql://x/y",
                                redis_url="redis://127.0.0.1:6379/0", redis_tracker_db=1, model="m.tar.gz", replicas=2)


def test_replicas_reach_each_other_only_through_the_balancer() -> None:
    services = {s.name: s for s in stack.services(REPLICATED, {})}
    assert sorted(services) == sorted(["sandbox", "saga-worker-1", "saga-worker-2", "balancer", *(
        f"{name}-{i}" for name in ("core", "core-internal", "core-ingest", "actions", "rasa") for i in (1, 2))])
    for i in (1, 2):
        assert services[f"core-{i}"].env["RASA_URL"] == "http://127.0.0.1:18455"
        assert services[f"rasa-{i}"].env["ACTION_SERVER_URL"] == "http://127.0.0.1:18460/webhook"
        assert services[f"rasa-{i}"].env["TRANSCRIPT_INGEST_URL"].startswith("http://127.0.0.1:18452/")
        assert services[f"actions-{i}"].env["CORE_URL"] == "http://127.0.0.1:18450"
        assert services[f"actions-{i}"].env["CORE_INTERNAL_URL"] == "http://127.0.0.1:18451"
    assert services["sandbox"].env["SANDBOX_WEBHOOK_BASE_URL"] == "http://127.0.0.1:18450"
    balancer = " ".join(services["balancer"].argv)
    assert "--listen=18455=http://127.0.0.1:18475,http://127.0.0.1:18495" in balancer
    assert "--listen=18450=http://127.0.0.1:18470,http://127.0.0.1:18490" in balancer


def test_colliding_replica_ports_are_refused() -> None:
    crowded = argparse.Namespace(**{**vars(REPLICATED), "rasa_port": 18470})  # core-1's port
    with pytest.raises(SystemExit, match="collide"):
        stack.services(crowded, {})
