"""The two pages' own behaviour in chromium, against a scripted core (Playwright routes, no stack).

What the stack cannot show on demand: a live stream that drops and is reopened with Last-Event-ID
(the "reconnecting…" state), a replayed event shown once, markup in data shown as text, the queue
grouped by customer with overdue and SLA, the agent's actions and typing notifications as requests,
the customer's linked channels (a code with its countdown, an unlink) without a real Telegram.
The pages are served with the core's own headers (api/web/views.py), so its Content-Security-Policy
is in force: a violation (inline script or style) fails the test.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Route, expect, sync_playwright

from api.config import REPO_ROOT
from api.web.views import ASSETS, PAGE_HEADERS, STATIC

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WAIT_MS = 10_000
CONVERSATION = "11111111-1111-4111-8111-111111111111"
HANDOFF = "22222222-2222-4222-8222-222222222222"
CARD = "33333333-3333-4333-8333-333333333333"
LINK = "66666666-6666-4666-8666-666666666666"
SCREENSHOTS = REPO_ROOT / "var" / "artifacts" / "screenshots"


def _now(seconds: int = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def sse(*events: tuple[str | None, str, dict[str, Any]], preamble: str = "retry: 300\n: connected\n\n") -> str:
    """A server-sent events body: (id, event, data) triples, in the core's framing."""
    frames = [(f"id: {i}\n" if i else "") + f"event: {name}\ndata: {json.dumps(data)}\n\n" for i, name, data in events]
    return preamble + "".join(frames)


@dataclass
class FakeCore:
    """Answers the page's requests: pages and scripts from api/web, the API from scripted handlers.

    `streams[path]` is a list of bodies for successive connections to that event stream; once it is
    used up, further connections reach the real server behind `origin`: a stream that opens and then
    stays quiet (the page's origin is that server's, so the browser lets the page read it)."""

    origin: str
    api: dict[tuple[str, str], Callable[[Request], Any]] = field(default_factory=dict)
    streams: dict[str, list[str]] = field(default_factory=dict)
    calls: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)

    def handle(self, route: Route, request: Request) -> None:
        path = request.url.removeprefix(self.origin).split("?")[0]
        body = request.post_data_json if request.post_data and "json" in (
            request.headers.get("content-type") or "") else request.post_data
        self.calls.append((request.method, path, request.headers, body))
        if path in ("/chat", "/console"):
            route.fulfill(status=200, headers=PAGE_HEADERS, content_type="text/html",
                          body=(STATIC / f"{path[1:]}.html").read_text())
        elif path.startswith("/static/") and path[8:] in ASSETS:
            route.fulfill(status=200, content_type=ASSETS[path[8:]], body=(STATIC / path[8:]).read_text())
        elif path.endswith("/events"):
            bodies = self.streams.get(path, [])
            if bodies:
                route.fulfill(status=200, content_type="text/event-stream", body=bodies.pop(0))
            else:
                route.continue_()
        elif (request.method, path) in self.api:
            answer = self.api[(request.method, path)](request)
            status, payload, *headers = answer if isinstance(answer, tuple) else (200, answer)
            route.fulfill(status=status, content_type="application/json", body=json.dumps(payload),
                          headers=headers[0] if headers else None)
        else:
            route.fulfill(status=404, content_type="application/problem+json", body=json.dumps({"title": "Not found"}))

    def requests(self, method: str, path: str) -> list[tuple[str, str, dict[str, str], Any]]:
        return [c for c in self.calls if c[0] == method and re.fullmatch(path, c[1])]


class QuietStream(BaseHTTPRequestHandler):
    """An event stream that opens, says it is connected, and then says nothing until the server stops."""

    stop = threading.Event()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(b": connected\n\n")
        self.wfile.flush()
        self.stop.wait()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    """A local server that answers every request with a quiet event stream; the pages are served from
    its origin, every other request being answered by the FakeCore's routes."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), QuietStream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        QuietStream.stop.set()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert os.access(CHROMIUM, os.X_OK), f"chromium is needed at {CHROMIUM} (apt-get install -y chromium)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _open(browser: Browser, core: FakeCore, page_path: str, username: str) -> tuple[Page, list[str]]:
    """The page, signed in; with the list that collects its policy violations and script errors."""
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.set_default_timeout(WAIT_MS)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.route(f"{core.origin}/**", core.handle)
    core.api[("POST", "/v1/auth/token")] = lambda r: {"access_token": f"token-{username}", "token_type": "bearer"}
    page.goto(f"{core.origin}{page_path}")
    page.fill("#username", username)
    page.fill("#password", "demo-password")
    page.click("#login button[type=submit]")
    expect(page.locator("#login")).to_be_hidden()
    return page, problems


def test_the_chat_page_reconnects_with_the_last_event_id_and_shows_each_line_once(browser: Browser,
                                                                                  origin: str) -> None:
    core = FakeCore(origin)
    core.api[("POST", "/v1/chat/messages")] = lambda r: {
        "conversation_id": CONVERSATION, "handoff": {"id": HANDOFF, "status": "waiting"},
        "messages": [{"text": "A colleague will join you.", "buttons": []}]}
    core.api[("POST", f"/v1/handoffs/{HANDOFF}/callback")] = lambda r: {"id": HANDOFF, "callback_requested": True}
    agent_line = {"id": 7, "role": "agent", "text": "Hi <b>there</b> & welcome", "sent_at": _now()}
    events = f"/v1/conversations/{CONVERSATION}/events"
    core.streams[events] = [
        # The first connection: the bot's stored copy of its answer (an echo), the customer's own line,
        # the agent typing, then its line (CRLF framing); then the connection drops.
        sse(("1-0", "message", {"id": 5, "role": "bot", "text": "A colleague will join you.", "sent_at": _now()}),
            ("2-0", "message", {"id": 4, "role": "user", "text": "I want to talk to a person", "sent_at": _now()}),
            ("3-0", "typing", {"role": "agent"}))
        + f"id: 4-0\r\nevent: message\r\ndata: {json.dumps(agent_line)}\r\n\r\n",
        # The reconnect: the server replays the agent's line, then the handoff turns overdue with a notice.
        sse(("4-0", "message", agent_line),
            ("5-0", "handoff", {"id": HANDOFF, "status": "waiting", "overdue": True}),
            ("6-0", "message", {"id": 8, "role": "notice", "text": "Nobody could join yet.", "sent_at": _now()})),
    ]
    page, problems = _open(browser, core, "/chat", "alice")
    page.fill("#text", "I want to talk to a person")
    page.press("#text", "Enter")

    line = page.locator(".msg.agent")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("Hi <b>there</b> & welcome")  # markup in data is text
    expect(line.locator("b")).to_have_count(0)
    expect(line.locator(".who")).to_have_text("Support agent")
    expect(page.locator(".msg.bot")).to_have_count(1)  # the echo of the bot's answer is not shown again
    expect(page.locator(".msg.me")).to_have_count(1)
    for message in page.locator(".msg").all():
        expect(message.locator("time")).to_have_text(re.compile(r"\d"))
    expect(page.locator("#connection")).to_have_text("reconnecting…")

    expect(page.locator(".msg.notice")).to_have_text(re.compile("Nobody could join yet"))
    expect(page.locator("#connection")).to_be_hidden()
    expect(line).to_have_count(1)  # replayed after the reconnect, shown once
    reconnects = core.requests("GET", events)
    assert len(reconnects) >= 2
    assert "last-event-id" not in reconnects[0][2]
    assert reconnects[1][2]["last-event-id"] == "4-0"
    assert all(c[2]["authorization"] == "Bearer token-alice" for c in reconnects)

    expect(page.locator("#callback")).to_be_visible()
    page.click("#callback")
    expect(page.locator("#status")).to_contain_text("We will call you back")
    expect(page.locator("#callback")).to_be_hidden()
    assert len(core.requests("POST", f"/v1/handoffs/{HANDOFF}/callback")) == 1
    assert problems == []


def test_the_chat_page_links_a_channel_with_a_code_and_unlinks_one(browser: Browser, origin: str) -> None:
    core = FakeCore(origin)
    links = [{"id": LINK, "channel": "telegram", "conversation_id": CONVERSATION, "linked_at": _now(-86400),
              "revoked_at": None},
             {"id": "77777777-7777-4777-8777-777777777777", "channel": "sms", "conversation_id": CONVERSATION,
              "linked_at": _now(-172800), "revoked_at": _now(-90000)}]  # unlinked before: not listed
    core.api[("GET", "/v1/channel-links")] = lambda r: links
    # The core's clock is an hour behind the browser's: the countdown is counted from the core's Date.
    core_now = datetime.now(UTC) - timedelta(hours=1)
    codes = {"telegram": ("ABCDE-FGH23", 600), "slack": ("KLMNP-QRS45", 2)}

    def new_code(request: Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        channel = request.post_data_json["channel"]
        code, seconds = codes[channel]
        expires_at = (core_now + timedelta(seconds=seconds)).isoformat()
        return 201, {"code": code, "channel": channel, "expires_at": expires_at}, {
            "Date": format_datetime(core_now, usegmt=True)}

    core.api[("POST", "/v1/channel-links")] = new_code
    core.api[("DELETE", f"/v1/channel-links/{LINK}")] = lambda r: {**links[0], "revoked_at": _now()}

    page, problems = _open(browser, core, "/chat", "alice")
    opener = page.get_by_role("button", name="Linked channels", exact=True)
    expect(opener).to_have_attribute("aria-expanded", "false")
    opener.click()
    panel = page.get_by_role("region", name="Linked channels")
    expect(panel).to_be_visible()
    expect(opener).to_have_attribute("aria-expanded", "true")
    listed = panel.locator("[data-testid=channel-link]")
    expect(listed).to_have_count(1)  # the live link only
    expect(listed).to_have_attribute("data-link-id", LINK)
    expect(listed.locator(".channel-name")).to_have_text("Telegram")
    expect(listed.locator("[data-testid=linked-at]")).to_contain_text("linked ")
    expect(panel.locator("[data-testid=channel-links-empty]")).to_be_hidden()
    assert core.requests("GET", "/v1/channel-links")[0][2]["authorization"] == "Bearer token-alice"

    panel.get_by_role("button", name=re.compile("^Link Telegram")).click()
    expect(page.locator("[data-testid=channel-code-command]")).to_have_text("/start ABCDE-FGH23")
    expect(page.locator("[data-testid=channel-code-instruction]")).to_contain_text("Telegram bot")
    expect(page.locator("[data-testid=channel-code-expiry]")).to_contain_text(re.compile(r"\((10:00|9:5\d) left\)"))
    created = core.requests("POST", "/v1/channel-links")
    assert [(c[3], c[2]["authorization"]) for c in created] == [({"channel": "telegram"}, "Bearer token-alice")]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "chat-channels.png"), full_page=True)

    # A Slack code says `link CODE`; when it runs out (the clock, not the API, says so) it leaves the screen.
    panel.get_by_role("button", name=re.compile("^Link Slack")).click()
    expect(page.locator("[data-testid=channel-code-command]")).to_have_text("link KLMNP-QRS45")
    expect(page.locator("[data-testid=channel-code-instruction]")).to_contain_text("Slack")
    expect(page.locator("[data-testid=channel-code-instruction]")).to_contain_text("expired")
    expect(page.locator("[data-testid=channel-code-command]")).to_be_hidden()
    assert [c[3] for c in core.requests("POST", "/v1/channel-links")] == [{"channel": "telegram"},
                                                                           {"channel": "slack"}]

    listed.get_by_role("button", name=re.compile("^Unlink Telegram")).click()
    expect(listed).to_have_count(0)
    expect(panel.locator("[data-testid=channel-links-empty]")).to_be_visible()
    expect(panel.locator("[data-testid=channels-note]")).to_contain_text("Telegram is unlinked")
    unlinked = core.requests("DELETE", "/v1/channel-links/.*")
    assert [(c[1], c[2]["authorization"]) for c in unlinked] == [(f"/v1/channel-links/{LINK}", "Bearer token-alice")]
    assert len(core.requests("GET", "/v1/channel-links")) == 1  # read on opening: never on a timer

    panel.get_by_role("button", name="Close linked channels").click()
    expect(panel).to_be_hidden()
    expect(opener).to_be_focused()
    assert problems == []


def _queue_item(handoff_id: str, customer: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"id": handoff_id, "conversation_id": CONVERSATION, "status": "waiting", "reason": "customer_request",
            "created_at": _now(-120), "customer_name": name, "customer_id": customer, "claimed_at": None,
            "closed_at": None, "waiting_seconds": 120, "mine": False, "channel": "web", "summary": "",
            "overdue": False, "sla_due_at": _now(180), "callback_requested": False, **extra}


CONTEXT = {
    "customer": {"id": "c1", "name": "Alice Martin", "kyc_status": "verified"},
    "accounts": [{"id": "a1", "name": "Everyday checking", "type": "checking", "currency": "EUR",
                  "balance": "12345.60", "available": "12000.00"}],
    "recent_transactions": [{"id": "t1", "posted_at": _now(-3600), "amount": "-3.40", "currency": "EUR",
                             "merchant": "Costa <Coffee>", "category": "coffee", "description": None}],
    "cards": [{"id": CARD, "last4": "4821", "status": "active", "frozen_reason": None}],
    "fraud_cases": [],
    "channels": [{"channel": "telegram", "linked_at": _now(-86400)}],
}


def test_the_console_groups_the_queue_acts_through_the_core_and_throttles_typing(browser: Browser,
                                                                                 origin: str) -> None:
    core = FakeCore(origin)
    core.api[("GET", "/v1/me")] = lambda r: {"username": "agent", "full_name": "Sam Agent", "roles": ["agent"]}
    queue = [_queue_item(HANDOFF, "c1", "Alice <i>Martin</i>", overdue=True, sla_due_at=_now(-30),
                         summary="my card <CREDIT_CARD> was stolen", channel="telegram"),
             _queue_item("44444444-4444-4444-8444-444444444444", "c1", "Alice <i>Martin</i>"),
             _queue_item("55555555-5555-4555-8555-555555555555", "c2", "Bob Stone", reason="fraud_escalation")]
    core.api[("GET", "/v1/handoffs")] = lambda r: queue
    core.streams["/v1/handoffs/events"] = [sse(("1-0", "queue", {"handoff_id": HANDOFF, "status": "waiting",
                                                                  "overdue": True}))]
    claimed = {**queue[0], "status": "active", "mine": True}
    core.api[("POST", f"/v1/handoffs/{HANDOFF}/claim")] = lambda r: claimed
    core.api[("GET", f"/v1/conversations/{CONVERSATION}/transcript")] = lambda r: {
        "conversation_id": CONVERSATION, "handoff": {"id": HANDOFF, "status": "active"}, "messages": [
            {"id": 1, "role": "user", "text": "my card <CREDIT_CARD> was stolen", "entity_types": ["CREDIT_CARD"],
             "intent": None, "confidence": None, "sent_at": _now(-60)},
            {"id": 2, "role": "bot", "text": "A colleague will join you.", "entity_types": [], "intent": None,
             "confidence": None, "sent_at": _now(-59)}]}
    frozen = {**CONTEXT["cards"][0], "status": "frozen", "frozen_reason": "customer"}
    contexts = [CONTEXT, {**CONTEXT, "cards": [frozen]},
                {**CONTEXT, "fraud_cases": [{"id": "f1", "status": "open", "kind": "lost_or_stolen_card",
                                             "opened_at": _now()}]}]
    core.api[("GET", f"/v1/handoffs/{HANDOFF}/context")] = lambda r: (
        contexts.pop(0) if len(contexts) > 1 else contexts[0])
    core.api[("GET", "/v1/handoffs/canned-replies")] = lambda r: [
        {"id": "greeting", "title": "Greeting", "text": "Hi, I'm from the support team."}]
    core.api[("POST", f"/v1/handoffs/{HANDOFF}/typing")] = lambda r: (204, {})
    core.api[("POST", f"/v1/handoffs/{HANDOFF}/actions/freeze-card")] = lambda r: {}
    core.api[("POST", f"/v1/handoffs/{HANDOFF}/actions/fraud-case")] = lambda r: (201, {})
    core.api[("POST", f"/v1/handoffs/{HANDOFF}/messages")] = lambda r: {
        "id": 3, "role": "agent", "text": r.post_data_json["text"], "entity_types": [], "sent_at": _now()}
    core.api[("POST", f"/v1/handoffs/{HANDOFF}/release")] = lambda r: {**claimed, "status": "closed"}

    page, problems = _open(browser, core, "/console", "agent")
    # Grouped by customer: Alice once with both her handoffs, Bob once; names are text, not markup.
    groups = page.locator("[data-testid=queue-customer]")
    expect(groups).to_have_count(2)
    alice = groups.filter(has_text="Alice <i>Martin</i>")
    expect(alice.locator("[data-testid=queue-item]")).to_have_count(2)
    expect(alice.locator("i")).to_have_count(0)
    first = alice.locator(f"[data-handoff-id='{HANDOFF}']")
    expect(first.locator("[data-testid=overdue]")).to_be_visible()
    expect(first.locator("[data-testid=sla]")).to_contain_text("overdue by")
    expect(first.locator("[data-testid=channel]")).to_have_text("telegram")
    expect(alice.locator("[data-testid=sla]").nth(1)).to_contain_text("left")
    expect(page.locator("[data-testid=queue-count]")).to_have_text("3 waiting")

    first.get_by_role("button", name=re.compile("^Claim")).click()
    expect(page.locator("#title")).to_contain_text("with you")
    expect(page.locator("#log .msg.user")).to_have_text(re.compile("<CREDIT_CARD>"))
    expect(page.locator("[data-testid=account-balance]")).to_have_text("12,345.60 EUR")
    expect(page.locator("[data-testid=transaction]")).to_contain_text("Costa <Coffee>")
    expect(page.locator("[data-testid=kyc]")).to_have_text("KYC verified")
    expect(page.locator("[data-testid=channels]")).to_contain_text("telegram")

    page.locator("[data-testid=freeze-card]").click()
    expect(page.locator("[data-testid=card-status]")).to_contain_text("frozen")
    expect(page.locator("[data-testid=action-status]")).to_contain_text("frozen")
    assert core.requests("POST", f"/v1/handoffs/{HANDOFF}/actions/freeze-card")[0][3] == {"card_id": CARD}

    page.select_option("#fraud-kind", "lost_or_stolen_card")
    page.select_option("#fraud-card", CARD)
    page.locator("[data-testid=open-fraud-case]").click()
    expect(page.locator("[data-testid=fraud-case]")).to_have_count(1)
    assert core.requests("POST", f"/v1/handoffs/{HANDOFF}/actions/fraud-case")[0][3] == {
        "kind": "lost_or_stolen_card", "card_id": CARD}

    # A canned reply goes in at the cursor; typing sends one notification, not one per key.
    page.locator("[data-testid=canned-reply]").click()
    page.locator("#text").press_sequentially(" More text.")
    expect(page.locator("#text")).to_have_value("Hi, I'm from the support team. More text.")
    assert len(core.requests("POST", f"/v1/handoffs/{HANDOFF}/typing")) == 1
    page.click("#send")
    expect(page.locator("#log .msg.agent")).to_have_text(re.compile("More text"))
    assert core.requests("POST", f"/v1/handoffs/{HANDOFF}/messages")[0][3] == {
        "text": "Hi, I'm from the support team. More text."}

    page.click("#release")
    expect(page.locator("#title")).to_contain_text("handed back to the assistant")
    expect(page.locator("#send")).to_be_disabled()
    # The queue was read on sign-in, for its one event, after its stream reconnected (events may have
    # been missed), after the claim and after the release: never on a timer.
    assert len(core.requests("GET", "/v1/handoffs")) <= 5
    assert problems == []


def test_no_script_calls_the_api_on_a_timer_or_writes_markup() -> None:
    """The only intervals are the pages' clocks (they redraw timers, they request nothing); live updates
    come from the event streams. Text goes in with textContent, never innerHTML."""
    for name in ("live.js", "chat.js", "console.js"):
        script = (STATIC / name).read_text()
        assert re.findall(r"setInterval\(\s*([\w.]+)", script) in ([], ["tickClocks"]), name
        assert "innerHTML" not in script and "insertAdjacentHTML" not in script, name
    for name in ("chat.js", "console.js"):  # the chat's clock counts a link code down
        clock = (STATIC / name).read_text().split("function tickClocks", 1)[1].split("\n}\n", 1)[0]
        assert "fetch(" not in clock and "api(" not in clock.lower(), name
