"""The live handoff on the real stack, read as the pages read it: server-sent events over a streamed
HTTP response (httpx), no polling. An agent's line, typing, the handoff's changes and the bot's
"anything else?" arrive as events; a reconnect with Last-Event-ID gets only what came after; a handoff
nobody claims turns overdue (the stack runs HANDOFF_CLAIM_TIMEOUT_SECONDS=30, tests/e2e/conftest.py); two
fallbacks in a row open a handoff. Every wait has a deadline; none sleeps.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from tests.e2e.conftest import HANDOFF_CLAIM_TIMEOUT_SECONDS, PORTS, Stack

pytestmark = pytest.mark.e2e
WAIT_SECONDS = 60  # the event broker delivers bot and customer lines asynchronously
OVERDUE_WAIT_SECONDS = HANDOFF_CLAIM_TIMEOUT_SECONDS + 60  # the timeout, then the saga workers' next pass
ANYTHING_ELSE = "Is there anything else I can help you with?"


def order(entry_id: str | None) -> tuple[int, int]:
    """A stream entry id (`<ms>-<seq>`) as something that sorts in stream order."""
    assert entry_id, "every event carries its stream entry id"
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq)


@dataclass
class Event:
    id: str | None
    name: str
    data: dict
    at: float  # time.monotonic() when it arrived


@dataclass
class EventStream:
    """One server-sent events response, parsed as it arrives (comments counted as keepalives)."""

    response: httpx.Response
    lines: Iterator[str]
    keepalives: int = 0
    seen: list[Event] = field(default_factory=list)
    ended: bool = False

    def next(self) -> Event | None:
        """The next event, or None when the server ended the response."""
        fields: dict[str, str] = {}
        for line in self.lines:
            if line == "":
                if "data" in fields:
                    event = Event(fields.get("id"), fields.get("event", "message"), json.loads(fields["data"]),
                                  time.monotonic())
                    self.seen.append(event)
                    return event
                continue
            if line.startswith(":"):
                self.keepalives += line.startswith(": keepalive")
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        self.ended = True
        return None

    def wait_for(self, done: Callable[[Event], bool], what: str, seconds: float = WAIT_SECONDS, *,
                 seen: bool = False) -> Event:
        """The first event (from now; with `seen`, also among those already read) that is `done`, within
        `seconds` (keepalives come every 15 s, so the deadline is checked at least that often)."""
        earlier = next((e for e in self.seen if done(e)), None) if seen else None
        if earlier is not None:
            return earlier
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            event = self.next()
            if event is None:
                raise AssertionError(f"the stream ended before {what}; events: {[e.name for e in self.seen]}")
            if done(event):
                return event
        got = [(e.name, e.data) for e in self.seen]
        raise AssertionError(f"{what} did not arrive within {seconds}s; events: {got}")


@pytest.fixture()
def open_stream() -> Iterator[Callable[..., EventStream]]:
    """Open event streams (closed after the test), as the pages do with fetch() and a bearer token."""
    client = httpx.Client(timeout=httpx.Timeout(30.0, read=40.0))  # read: above the 15 s keepalive
    opened = []

    def open_(url: str, headers: dict[str, str], last_event_id: str | None = None) -> EventStream:
        extra = {"Last-Event-ID": last_event_id} if last_event_id else {}
        context = client.stream("GET", url, headers={**headers, **extra, "Accept": "text/event-stream"})
        response = context.__enter__()
        opened.append(context)
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = EventStream(response, response.iter_lines())
        return stream

    yield open_
    for context in opened:
        context.__exit__(None, None, None)
    client.close()


def _text(reply: dict) -> str:
    return "\n".join(m["text"] or "" for m in reply["messages"])


def post(stack: Stack, headers, path: str, **kwargs) -> httpx.Response:
    return httpx.post(f"{stack.core_url}{path}", headers=headers, timeout=60, **kwargs)


def queue_item(stack: Stack, agent, handoff_id: str) -> dict:
    queue = httpx.get(f"{stack.core_url}/v1/handoffs", headers=agent, timeout=30).json()
    return next(h for h in queue if h["id"] == handoff_id)


def test_an_agents_line_typing_and_the_release_arrive_live(stack: Stack, open_stream) -> None:
    alice, agent = stack.login("alice"), stack.login("agent")
    queue = open_stream(f"{stack.core_url}/v1/handoffs/events", agent)
    asked = stack.chat(alice, "I want to talk to a person")
    conversation_id, handoff_id = asked["conversation_id"], asked["handoff"]["id"]
    queue.wait_for(lambda e: e.name == "queue" and e.data == {"handoff_id": handoff_id, "status": "waiting",
                                                              "overdue": False}, "the queue event of the opening")
    events_url = f"{stack.core_url}/v1/conversations/{conversation_id}/events"
    customer = open_stream(events_url, alice)

    assert post(stack, agent, f"/v1/handoffs/{handoff_id}/claim").status_code == 200
    claimed = customer.wait_for(lambda e: e.name == "handoff", "the claim")
    assert claimed.data == {"id": handoff_id, "status": "active", "overdue": False}
    queue.wait_for(lambda e: e.data.get("handoff_id") == handoff_id and e.data["status"] == "active", "the claim")
    agents_view = open_stream(events_url, agent)  # the agent holding it may watch the conversation too

    assert post(stack, agent, f"/v1/handoffs/{handoff_id}/typing").status_code == 204
    typing = customer.wait_for(lambda e: e.name == "typing", "the agent typing")
    assert typing.data == {"role": "agent"}

    posted_at = time.monotonic()
    sent = post(stack, agent, f"/v1/handoffs/{handoff_id}/messages", json={"text": "Hi Alice, how can I help?"})
    assert sent.status_code == 201, sent.text
    line = customer.wait_for(lambda e: e.name == "message" and e.data["role"] == "agent", "the agent's line")
    assert line.data["id"] == sent.json()["id"] and line.data["text"] == sent.json()["text"]
    assert line.data["sent_at"] and line.at - posted_at < 5, "pushed as it is stored, not on a polling interval"

    # The customer answers: the line reaches the agent's stream through the broker's ingest.
    assert stack.chat(alice, "my card was charged twice", conversation_id)["messages"] == []
    answer = agents_view.wait_for(lambda e: e.name == "message" and e.data["role"] == "user", "the customer's line")
    assert answer.data["text"] == "my card was charged twice"

    # A reconnect with the last id it got: only what came after, in order, nothing again.
    again = open_stream(events_url, alice, last_event_id=typing.id)
    resumed = again.wait_for(lambda e: e.name == "message" and e.data["role"] == "user", "the events after typing")
    assert (again.seen[0].id, again.seen[0].name, again.seen[0].data) == (line.id, "message", line.data)
    assert resumed.data == answer.data
    assert all(order(e.id) > order(typing.id) for e in again.seen)
    assert len({e.id for e in again.seen}) == len(again.seen)

    # Release: the handoff closes on both streams, the agent's stream ends, and the bot asks "anything else?".
    released = post(stack, agent, f"/v1/handoffs/{handoff_id}/release")
    assert released.status_code == 200 and released.json()["status"] == "closed", released.text
    closed = customer.wait_for(lambda e: e.name == "handoff", "the release")
    assert closed.data == {"id": handoff_id, "status": "closed", "overdue": False}
    bot = customer.wait_for(lambda e: e.name == "message" and e.data["text"] == ANYTHING_ELSE,
                            "the bot's anything else", seen=True)  # through the broker: before or after the release
    assert bot.data["role"] == "bot" and order(bot.id) > order(line.id)
    agents_view.wait_for(lambda e: e.name == "handoff" and e.data["status"] == "closed", "the release (agent)")
    assert agents_view.next() is None and agents_view.ended  # released: the agent no longer reads it
    # The bot answers the next question in the same conversation.
    assert "€" in _text(stack.chat(alice, "what's my balance?", conversation_id))
    transcript = httpx.get(f"{stack.core_url}/v1/conversations/{conversation_id}/transcript", headers=alice,
                           timeout=30).json()["messages"]
    assert ANYTHING_ELSE in [m["text"] for m in transcript if m["role"] == "bot"]


def test_nobody_claims_in_time_the_customer_is_told_and_the_bot_answers(stack: Stack, open_stream) -> None:
    alice, agent = stack.login("alice"), stack.login("agent")
    asked = stack.chat(alice, "I want to talk to a person")
    conversation_id, handoff_id = asked["conversation_id"], asked["handoff"]["id"]
    customer = open_stream(f"{stack.core_url}/v1/conversations/{conversation_id}/events", alice)
    assert stack.chat(alice, "what's my balance?", conversation_id)["messages"] == []  # waiting: quiet

    overdue = customer.wait_for(lambda e: e.name == "handoff", "the handoff turning overdue", OVERDUE_WAIT_SECONDS)
    assert overdue.data == {"id": handoff_id, "status": "waiting", "overdue": True}
    notice = customer.wait_for(lambda e: e.name == "message" and e.data["role"] == "notice", "the notice", seen=True)
    assert "call you back" in notice.data["text"] and "still here to help" in notice.data["text"]
    assert customer.keepalives >= 1  # the wait was longer than the 15 s keepalive
    item = queue_item(stack, agent, handoff_id)
    assert (item["status"], item["overdue"], item["callback_requested"]) == ("waiting", True, False)

    # The bot is available again while the handoff waits in the queue.
    reply = stack.chat(alice, "what's my balance?", conversation_id)
    assert "€" in _text(reply), reply
    assert reply["handoff"] == {"id": handoff_id, "status": "waiting"}

    called = post(stack, alice, f"/v1/handoffs/{handoff_id}/callback")
    assert called.status_code == 200 and called.json()["callback_requested"] is True, called.text
    told = customer.wait_for(lambda e: e.name == "message" and e.data["role"] == "notice", "the callback notice")
    assert "call you back" in told.data["text"]
    assert queue_item(stack, agent, handoff_id)["callback_requested"] is True

    # Claimed late, as usual: the bot goes quiet again.
    claimed = post(stack, agent, f"/v1/handoffs/{handoff_id}/claim")
    assert claimed.status_code == 200 and claimed.json()["overdue"] is True, claimed.text
    customer.wait_for(lambda e: e.name == "handoff" and e.data["status"] == "active", "the late claim")
    assert stack.chat(alice, "what's my balance?", conversation_id)["messages"] == []
    assert post(stack, agent, f"/v1/handoffs/{handoff_id}/release").status_code == 200
    customer.wait_for(lambda e: e.name == "message" and e.data["text"] == ANYTHING_ELSE, "the bot's anything else")


def test_two_fallbacks_in_a_row_open_a_handoff(stack: Stack) -> None:
    alice, agent = stack.login("alice"), stack.login("agent")
    # The fallback intent as a payload (what the NLU says of words it cannot place), so the test does not
    # depend on which words today's model is unsure of.
    first = stack.chat(alice, "/nlu_fallback")
    conversation_id = first["conversation_id"]
    assert first["handoff"] is None and first["messages"], first
    second = stack.chat(alice, "/nlu_fallback", conversation_id)
    assert "not getting this right" in _text(second), second
    assert second["handoff"] and second["handoff"]["status"] == "waiting", second
    item = queue_item(stack, agent, second["handoff"]["id"])
    assert (item["reason"], item["conversation_id"]) == ("repeated_fallback", conversation_id)
    assert post(stack, agent, f"/v1/handoffs/{item['id']}/claim").status_code == 200
    assert post(stack, agent, f"/v1/handoffs/{item['id']}/release").status_code == 200


def open_streams() -> float:
    """The core's gauge of open event streams (its workers summed), from the internal listener's metrics."""
    metrics = httpx.get(f"http://127.0.0.1:{PORTS['core-internal']}/metrics/", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith("bankbot_live_streams_open"))


def wait_until(value: Callable[[], float], wanted: float, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while (got := value()) != wanted:
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds}s: {got}, not {wanted}"
        time.sleep(0.2)


def test_a_stream_ends_when_its_client_goes_away(stack: Stack) -> None:
    alice = stack.login("alice")
    conversation_id = stack.chat(alice, "hello")["conversation_id"]
    before = open_streams()
    with httpx.Client(timeout=httpx.Timeout(30.0, read=40.0)) as client, \
            client.stream("GET", f"{stack.core_url}/v1/conversations/{conversation_id}/events", headers=alice) as r:
        assert r.status_code == 200
        lines = r.iter_lines()  # kept: a dropped line iterator closes the connection
        assert next(lines).startswith("retry:")  # the response has started
        wait_until(open_streams, before + 1, "the stream being counted")
    # The client hung up in the middle of a blocking read: the server notices, and lets go of it.
    wait_until(open_streams, before, "the stream ending after the client left")
