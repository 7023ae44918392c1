"""The two web pages in a real browser: a customer asks for a person in /chat, an agent answers from
/console, the customer sees the agent's (redacted) line, the agent hands back, the bot answers again.

Playwright drives Debian's chromium (`/usr/bin/chromium`, or CHROMIUM_PATH); nothing is downloaded.
"""

from __future__ import annotations

import os

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WAIT_MS = 30_000  # pages poll every 2 s; Rasa answers in well under a second


def _hand_back_leftovers(stack: Stack) -> None:
    """Close the handoffs other tests left waiting, so the console's queue holds only this test's."""
    agent = stack.login("agent")
    queue = httpx.get(f"{stack.core_url}/v1/handoffs", headers=agent, timeout=30)
    assert queue.status_code == 200, queue.text
    for handoff in queue.json():
        for action in ("claim", "release"):
            done = httpx.post(f"{stack.core_url}/v1/handoffs/{handoff['id']}/{action}", headers=agent, timeout=60)
            assert done.status_code == 200, done.text


def _sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.fill("#username", username)
    page.fill("#password", "demo-password")
    page.click("#login button[type=submit]")


def test_an_agent_takes_over_and_hands_back_in_the_browser(stack: Stack) -> None:
    assert os.access(CHROMIUM, os.X_OK), f"chromium is needed at {CHROMIUM} (apt-get install -y chromium)"
    _hand_back_leftovers(stack)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            customer, agent = browser.new_page(), browser.new_page()
            customer.set_default_timeout(WAIT_MS)
            agent.set_default_timeout(WAIT_MS)

            _sign_in(customer, f"{stack.core_url}/chat", "alice")
            customer.fill("#text", "I want to talk to a person")
            customer.press("#text", "Enter")
            expect(customer.locator("#status")).to_contain_text("Waiting for a support agent", timeout=WAIT_MS)
            customer.fill("#text", "my card 4111 1111 1111 1111 was stolen")
            customer.press("#text", "Enter")
            expect(customer.locator(".msg.bot")).to_have_count(1)  # the bot announced the agent and went quiet

            _sign_in(agent, f"{stack.core_url}/console", "agent")
            waiting = agent.locator("#queue li", has_text="Alice Martin")
            expect(waiting).to_have_count(1, timeout=WAIT_MS)
            waiting.get_by_role("button", name="Claim").click()
            # The agent sees the conversation so far, redacted as stored.
            expect(agent.locator("#log .msg.user", has_text="<CREDIT_CARD>")).to_have_count(1, timeout=WAIT_MS)
            expect(agent.locator("#log")).not_to_contain_text("4111 1111 1111 1111")

            agent.fill("#text", "Hello, I have frozen that card. Write to me at help.desk@example.com")
            agent.click("#send")
            expect(customer.locator(".msg.agent")).to_have_text(
                "Hello, I have frozen that card. Write to me at <EMAIL_ADDRESS>", timeout=WAIT_MS)
            expect(customer.locator("#status")).to_contain_text("A support agent is in this chat")

            agent.click("#release")
            expect(customer.locator(".msg.note")).to_contain_text("handed you back", timeout=WAIT_MS)
            customer.fill("#text", "what's my balance?")
            customer.press("#text", "Enter")
            expect(customer.locator(".msg.bot").last).to_contain_text("Everyday checking", timeout=WAIT_MS)
        finally:
            browser.close()
