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


# Responses the fast check must judge exactly as the full schema does: it may only say "valid" for a response
# the full validator accepts, and every response it does not pass goes to the full validator.
_RESPONSES = [
    {}, {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "x", "value": None, "timestamp": None}]},
    {"events": [{"event": "slot", "name": "x"}]},  # SlotSet without its value
    {"events": [{"event": "slot", "name": 3, "value": 1}]},  # a name that is not a string
    {"events": [{"event": "action", "name": "action_listen", "policy": None, "confidence": 1.0}]},
    {"events": [{"event": "action", "name": "action_listen", "confidence": "high"}]},
    {"events": [{"event": "followup", "name": "utter_x"}, {"event": "pause"}, {"event": "resume"}]},
    {"events": [{"event": "active_loop", "name": "transfer_form"}, {"event": "reset_slots"}]},
    {"events": [{"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 0.9},
                                                              "entities": [{"entity": "e", "value": 1}]}}]},
    {"events": [{"event": "user", "text": "hi", "parse_data": {"entities": [{"entity": "e"}]}}]},
    {"events": [{"event": "bot", "text": "hi", "metadata": {"a": 1}}]},
    {"events": [{"event": "bot", "timestamp": "yesterday"}]},
    {"events": [{"event": "bot", "metadata": []}]},
    {"events": [{"event": "no_such_event"}]}, {"events": [{"event": ["slot"]}]}, {"events": [{"event": None}]},
    {"events": [{"name": "x"}]}, {"events": ["slot"]}, {"events": {"event": "slot"}}, {"events": None},
    {"responses": [{"text": "hi", "buttons": [{"title": "a", "payload": "/a"}]}]}, {"responses": ["hi"]},
    {"responses": {"text": "hi"}}, {"other": 1},
]


@pytest.mark.parametrize("response", _RESPONSES, ids=[str(i) for i in range(len(_RESPONSES))])
def test_the_fast_check_never_passes_what_the_full_schema_refuses(response: dict) -> None:
    full = bankbot_action_calls._response_validator().is_valid(response)
    assert not bankbot_action_calls._valid_fast(response) or full
    action = RemoteAction("action_check_balance", EndpointConfig("http://127.0.0.1:9"))
    if full:
        assert action._validate_action_result(response) is True
    else:
        with pytest.raises(ValidationError, match="Failed to validate Action server response"):
            action._validate_action_result(response)


def test_a_valid_response_of_every_event_type_our_actions_return_takes_the_fast_path() -> None:
    valid = [r for r in _RESPONSES if bankbot_action_calls._response_validator().is_valid(r)]
    assert len(valid) >= 8
    assert all(bankbot_action_calls._valid_fast(r) for r in valid)
    assert set(bankbot_action_calls._fast_check().events) >= {"slot", "action", "bot", "user", "followup", "pause",
                                                              "active_loop", "reset_slots"}
