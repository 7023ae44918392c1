"""bankbot_action_calls.py: the action server's responses are validated as strictly as Rasa does, by one
validator built once; the action endpoint's calls share one kept-alive connection, other endpoints do not."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

import bankbot_action_calls

bankbot_action_calls.install()


def test_a_valid_response_passes_and_an_invalid_one_fails_as_in_rasa() -> None:
    action = RemoteAction("action_check_balance", EndpointConfig("http://127.0.0.1:9"))
    ok = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
    assert action._validate_action_result(ok) is True
    for bad in ({"events": "not a list"}, {"events": [{"no_event_key": 1}]}, {"responses": [1]}):
        with pytest.raises(ValidationError, match="Failed to validate Action server response"):
            action._validate_action_result(bad)


def test_the_validator_is_built_once() -> None:
    assert bankbot_action_calls._response_validator() is bankbot_action_calls._response_validator()


def _connections(endpoint: EndpointConfig, calls: int) -> int:
    """How many TCP connections the server saw for `calls` requests through `endpoint.request`."""
    peers: set[int] = set()

    async def handle(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername")[1])
        return web.json_response({"events": [], "responses": []})

    async def scenario() -> int:
        app = web.Application()
        app.router.add_post("/webhook", handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint.url = f"http://127.0.0.1:{port}/webhook"
        try:
            for _ in range(calls):
                assert await endpoint.request(json={"next_action": "x"}, method="post") == {"events": [],
                                                                                              "responses": []}
        finally:
            await runner.cleanup()
        return len(peers)

    return asyncio.run(scenario())


def test_the_action_endpoint_keeps_its_connection_and_other_endpoints_do_not() -> None:
    action_endpoint = EndpointConfig("http://placeholder", headers={"Authorization": "Bearer t"})
    RemoteAction("action_check_balance", action_endpoint)  # Rasa builds its remote actions this way
    assert _connections(action_endpoint, 3) == 1
    assert _connections(EndpointConfig("http://placeholder"), 3) == 3
